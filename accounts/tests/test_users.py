"""GET users/, users/{id}/, users/me/ and PATCH users/me/."""

import datetime

import pytest
from django.utils import timezone

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

USERS = "/api/v1/users/"
ME = "/api/v1/users/me/"
PUBLIC_KEYS = {"id", "username", "bio", "is_private"}
FULL_KEYS = PUBLIC_KEYS | {
    "email",
    "first_name",
    "last_name",
    "location",
    "birth_date",
    "date_joined",
}


@pytest.mark.django_db
def test_user_list_public_views_in_join_order(user_client, user):
    others = UserFactory.create_batch(3, is_private=True, bio="hi")
    UserFactory(is_active=False)

    response = user_client.get(USERS)

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    assert [u["id"] for u in body["results"]] == [user.id] + [u.id for u in others]
    assert all(set(u) == PUBLIC_KEYS for u in body["results"])
    assert body["results"][1] == {
        "id": others[0].id,
        "username": others[0].username,
        "bio": "hi",
        "is_private": True,
    }


@pytest.mark.django_db
def test_user_list_needs_authentication(api_client):
    response = api_client.get(USERS)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_user_list_search_on_username_and_names_ignoring_case(user_client):
    bob = UserFactory(username="BobTheBuilder", first_name="Robert", last_name="Bauer")
    anna = UserFactory(username="anna", first_name="Anna", last_name="Bobrova")
    UserFactory(username="carl", first_name="Carl", last_name="Smith")

    def search(term):
        response = user_client.get(USERS, {"search": term})
        assert response.status_code == 200
        return {u["username"] for u in response.json()["results"]}

    assert search("bob") == {bob.username, anna.username}
    assert search("ROBERT") == {bob.username}
    assert search("nobody-matches") == set()


@pytest.mark.django_db
def test_user_list_search_takes_percent_and_underscore_literally(user_client):
    UserFactory(username="under_score")
    UserFactory(username="underXscore")
    UserFactory(username="a%b")
    UserFactory(username="axxb")

    names = {u["username"] for u in user_client.get(USERS, {"search": "r_s"}).json()["results"]}
    assert names == {"under_score"}
    names = {u["username"] for u in user_client.get(USERS, {"search": "%"}).json()["results"]}
    assert names == {"a%b"}


@pytest.mark.django_db
def test_user_list_paginates_with_page_size(user_client):
    UserFactory.create_batch(4)
    first = user_client.get(USERS, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    assert first["next"]
    second = user_client.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert {u["id"] for u in first["results"]}.isdisjoint({u["id"] for u in second["results"]})


@pytest.mark.django_db
def test_user_list_with_100_users_runs_fixed_queries(user_client, django_assert_max_num_queries):
    UserFactory.create_batch(100)
    with django_assert_max_num_queries(2):  # the caller (JWT), the page
        response = user_client.get(USERS, {"page_size": 200})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 101


@pytest.mark.django_db
def test_user_detail_full_view_when_public(user_client):
    other = UserFactory(location="Paris", birth_date=datetime.date(1990, 5, 17))
    response = user_client.get(f"{USERS}{other.id}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FULL_KEYS
    assert body["email"] == other.email
    assert body["location"] == "Paris"
    assert body["birth_date"] == "1990-05-17"


@pytest.mark.django_db
def test_user_detail_public_view_when_private(user_client):
    other = UserFactory(is_private=True, bio="secret life")
    response = user_client.get(f"{USERS}{other.id}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": other.id,
        "username": other.username,
        "bio": "secret life",
        "is_private": True,
    }


@pytest.mark.django_db
def test_user_detail_of_self_is_full_even_when_private(client_for):
    me = UserFactory(is_private=True)
    response = client_for(me).get(f"{USERS}{me.id}/")
    assert response.status_code == 200
    assert set(response.json()) == FULL_KEYS


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["999999/", "99999999999999999999/", "9223372036854775808/", "abc/", "-1/"]
)
def test_user_detail_unknown_404(user_client, path):
    response = user_client.get(USERS + path)
    assert response.status_code == 404
    if path[0].isdigit():  # routed to the viewset (others never match a route)
        assert response.json() == {
            "detail": "Not found.",
            "code": "not_found",
        }


@pytest.mark.django_db
def test_user_detail_of_inactive_user_404(user_client):
    other = UserFactory(is_active=False)
    assert user_client.get(f"{USERS}{other.id}/").status_code == 404


@pytest.mark.django_db
def test_me_get_full_view(user_client, user):
    response = user_client.get(ME)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == FULL_KEYS
    assert body["id"] == user.id
    assert body["email"] == user.email


@pytest.mark.django_db
def test_me_patch_updates_fields(user_client, user):
    response = user_client.patch(
        ME,
        {
            "username": "NewName",
            "email": "new@example.com",
            "password": DEFAULT_PASSWORD,
            "first_name": "New",
            "last_name": "Name",
            "bio": "b" * 500,
            "location": "l" * 100,
            "birth_date": "2000-02-29",
            "is_private": True,
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["username"] == "NewName"
    assert body["email"] == "new@example.com"
    assert body["birth_date"] == "2000-02-29"
    assert body["is_private"] is True
    user.refresh_from_db()
    assert (user.username, user.bio, user.location) == ("NewName", "b" * 500, "l" * 100)


@pytest.mark.django_db
def test_me_patch_own_username_in_other_case_is_fine(user_client, user):
    response = user_client.patch(ME, {"username": user.username.upper()})
    assert response.status_code == 200
    assert response.json()["username"] == user.username.upper()


@pytest.mark.django_db
def test_me_patch_can_clear_birth_date(user_client, user):
    user.birth_date = datetime.date(1990, 1, 1)
    user.save(update_fields=["birth_date"])
    response = user_client.patch(ME, {"birth_date": None})
    assert response.status_code == 200
    assert response.json()["birth_date"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data,field",
    [
        ({"bio": "b" * 501}, "bio"),
        ({"location": "l" * 101}, "location"),
        ({"birth_date": "not-a-date"}, "birth_date"),
        ({"username": ""}, "username"),
        ({"username": "has space"}, "username"),
        ({"email": "nope"}, "email"),
        ({"is_private": "maybe"}, "is_private"),
        ({"bio": ["a list"]}, "bio"),
    ],
)
def test_me_patch_invalid_400(user_client, data, field):
    response = user_client.patch(ME, data)
    assert response.status_code == 400
    assert list(response.json()) == [field]


@pytest.mark.django_db
@pytest.mark.parametrize("days", [0, -1], ids=["today", "tomorrow"])
def test_me_patch_birth_date_must_be_past(user_client, days):
    date = timezone.now().date() - datetime.timedelta(days=days)
    response = user_client.patch(ME, {"birth_date": date.isoformat()})
    assert response.status_code == 400
    assert response.json() == {"birth_date": ["Must be a date in the past."]}


@pytest.mark.django_db
def test_me_patch_username_and_email_unique_ignoring_case(user_client):
    UserFactory(username="Taken", email="Taken@Example.com")
    response = user_client.patch(ME, {"username": "TAKEN"})
    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}
    response = user_client.patch(ME, {"email": "taken@example.COM", "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with that email already exists."]}


@pytest.mark.django_db
def test_me_patch_lost_race_on_constraint_is_400(user_client, monkeypatch):
    UserFactory(username="taken", email="taken@example.com")
    monkeypatch.setattr("accounts.serializers._check_unique", lambda field, value, *a, **k: value)
    response = user_client.patch(ME, {"email": "TAKEN@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with that email already exists."]}


@pytest.mark.django_db
def test_me_put_405(user_client):
    response = user_client.put(ME, {"bio": "x"})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.', "code": "method_not_allowed"}


@pytest.mark.django_db
def test_me_needs_authentication(api_client):
    for method in ("get", "patch", "delete"):
        response = getattr(api_client, method)(ME)
        assert response.status_code == 401
