"""1.1 reactions: POST/GET messages/{id}/reactions/, DELETE messages/{id}/reactions/{emoji}/,
the `reactions` field of messages and the message.reacted event."""

from urllib.parse import quote

import pytest

from accounts.tests.factories import UserFactory
from chats.tests.factories import direct_chat
from chitchat.invariants import check_invariants
from messaging.models import Reaction
from messaging.tests.conftest import add_member

pytestmark = pytest.mark.django_db

THUMBS, THUMBS_TONE, FAMILY, HEART = "👍", "👍🏽", "👨\u200d👩\u200d👧", "❤️"


def url(message_id):
    return f"/api/v1/messages/{message_id}/reactions/"


def one_url(message_id, emoji):
    return f"/api/v1/messages/{message_id}/reactions/{quote(emoji)}/"


@pytest.fixture(autouse=True)
def _counters_agree(db):
    yield
    assert check_invariants() == []


def test_react_twice_counts_once_and_emits_one_event(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    message = send(group, alice)
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url(message.pk), {"emoji": THUMBS}, format="json")
        second = client.post(url(message.pk), {"emoji": THUMBS}, format="json")
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == message.pk
    assert (
        first.json()["reactions"]
        == second.json()["reactions"]
        == [{"emoji": THUMBS, "count": 1, "me": True}]
    )
    assert sent_events.of_type() == [
        {
            "type": "message.reacted",
            "chat_id": group.pk,
            "data": {
                "id": message.pk,
                "emoji": THUMBS,
                "count": 1,
                "user": {"id": bob.pk, "username": "bob"},
                "reacted": True,
            },
        }
    ]


@pytest.mark.parametrize("emoji", [THUMBS_TONE, FAMILY, HEART, "🇫🇷", "1️⃣"])
def test_skin_tone_zwj_flag_and_keycap_sequences_are_one_emoji(
    client_for, group, alice, send, emoji
):
    message = send(group, alice)
    response = client_for(alice).post(url(message.pk), {"emoji": emoji}, format="json")
    assert response.status_code == 200
    assert response.json()["reactions"] == [{"emoji": emoji, "count": 1, "me": True}]


@pytest.mark.parametrize(
    "emoji", ["", "a", "👍👍", " 👍", "👍 ", "ab", ":thumbsup:", 5, None, ["👍"], "👍" * 40]
)
def test_anything_but_one_emoji_is_400_on_emoji(client_for, group, alice, send, emoji):
    message = send(group, alice)
    response = client_for(alice).post(url(message.pk), {"emoji": emoji}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["emoji"]
    assert not Reaction.objects.exists()


def test_missing_emoji_is_400(client_for, group, alice, send):
    message = send(group, alice)
    response = client_for(alice).post(url(message.pk), {}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["emoji"]


def test_reactions_field_in_first_use_order_with_me_per_reader(
    client_for, group, alice, bob, carol, send
):
    add_member(group, carol)
    message = send(group, alice)
    client_for(bob).post(url(message.pk), {"emoji": HEART}, format="json")
    client_for(carol).post(url(message.pk), {"emoji": THUMBS}, format="json")
    client_for(alice).post(url(message.pk), {"emoji": HEART}, format="json")
    expected_for_bob = [
        {"emoji": HEART, "count": 2, "me": True},
        {"emoji": THUMBS, "count": 1, "me": False},
    ]
    detail = client_for(bob).get(f"/api/v1/messages/{message.pk}/")
    assert detail.json()["reactions"] == expected_for_bob
    page = client_for(carol).get(f"/api/v1/chats/{group.pk}/messages/").json()["results"]
    assert page[0]["reactions"] == [
        {"emoji": HEART, "count": 2, "me": False},
        {"emoji": THUMBS, "count": 1, "me": True},
    ]
    # The chat's last_message is built by the same read model.
    chat = client_for(bob).get(f"/api/v1/chats/{group.pk}/").json()
    assert chat["last_message"]["reactions"] == expected_for_bob


def test_21st_distinct_emoji_is_409_but_existing_ones_still_count(
    client_for, group, alice, bob, send
):
    message = send(group, alice)
    emojis = list("😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙😚🙂🤗")
    assert len(set(emojis)) == 20
    Reaction.objects.bulk_create(Reaction(message=message, user=alice, emoji=e) for e in emojis)
    type(message).objects.filter(pk=message.pk).update(reaction_count=20)
    client = client_for(bob)
    response = client.post(url(message.pk), {"emoji": "🤔"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "too_many_reactions"
    # One of the twenty used already: bob may add to it.
    response = client.post(url(message.pk), {"emoji": "😀"}, format="json")
    assert response.status_code == 200
    assert response.json()["reactions"][0] == {"emoji": "😀", "count": 2, "me": True}
    assert len(response.json()["reactions"]) == 20


def test_unreact_removes_only_the_callers_reaction(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    message = send(group, alice)
    client_for(alice).post(url(message.pk), {"emoji": FAMILY}, format="json")
    client_for(bob).post(url(message.pk), {"emoji": FAMILY}, format="json")
    sent_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = client_for(bob).delete(one_url(message.pk, FAMILY))
        second = client_for(bob).delete(one_url(message.pk, FAMILY))
    assert first.status_code == second.status_code == 200
    assert first.json()["reactions"] == [{"emoji": FAMILY, "count": 1, "me": False}]
    (frame,) = sent_events.of_type()  # removing what is not there emits nothing
    assert frame["type"] == "message.reacted"
    assert frame["data"] == {
        "id": message.pk,
        "emoji": FAMILY,
        "count": 1,
        "user": {"id": bob.pk, "username": "bob"},
        "reacted": False,
    }
    last = client_for(alice).delete(one_url(message.pk, FAMILY))
    assert last.json()["reactions"] == []


def test_unreact_with_a_non_emoji_or_unused_emoji_changes_nothing(client_for, group, alice, send):
    message = send(group, alice)
    client = client_for(alice)
    assert client.delete(one_url(message.pk, "nothing")).status_code == 200
    assert client.delete(one_url(message.pk, THUMBS)).json()["reactions"] == []


def test_non_member_403_and_someone_elses_direct_chat_404(
    client_for, group, alice, bob, carol, send
):
    message = send(group, alice)
    client = client_for(carol)
    for response in (
        client.post(url(message.pk), {"emoji": THUMBS}, format="json"),
        client.get(url(message.pk)),
        client.delete(one_url(message.pk, THUMBS)),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    dm = send(direct_chat(alice, bob), alice)
    assert client.post(url(dm.pk), {"emoji": THUMBS}, format="json").status_code == 404
    assert client.get(url(dm.pk)).status_code == 404
    assert client_for(alice).post(url(10**12), {"emoji": THUMBS}, format="json").status_code == 404


def test_member_who_left_cannot_react(client_for, group, alice, bob, send):
    message = send(group, alice)
    client = client_for(bob)
    assert client.post(f"/api/v1/chats/{group.pk}/leave/").status_code == 204
    assert client.post(url(message.pk), {"emoji": THUMBS}, format="json").status_code == 403
    assert not Reaction.objects.exists()


def test_reaction_list_groups_users_oldest_first_capped_at_100(
    client_for, group, alice, bob, send, django_assert_num_queries
):
    message = send(group, alice)
    users = UserFactory.create_batch(105)
    for user in users:
        add_member(group, user)
    Reaction.objects.bulk_create(Reaction(message=message, user=u, emoji=HEART) for u in users)
    Reaction.objects.bulk_create(
        Reaction(message=message, user=u, emoji=THUMBS) for u in (bob, alice)
    )
    type(message).objects.filter(pk=message.pk).update(reaction_count=107)
    client = client_for(bob)
    client.get(url(message.pk))  # the token's user is checked once, then remembered
    # The message (with its chat), the caller's role, the groups, their users.
    with django_assert_num_queries(4):
        response = client.get(url(message.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    heart, thumbs = body["results"]
    assert heart["emoji"] == HEART and heart["count"] == 105
    assert [u["id"] for u in heart["users"]] == [u.pk for u in users[:100]]
    assert heart["users"][0] == {"id": users[0].pk, "username": users[0].username}
    assert thumbs == {
        "emoji": THUMBS,
        "count": 2,
        "users": [{"id": bob.pk, "username": "bob"}, {"id": alice.pk, "username": "alice"}],
    }
    # Paginated in first-use order.
    first = client.get(url(message.pk), {"page_size": 1}).json()
    assert [g["emoji"] for g in first["results"]] == [HEART]
    rest = client.get(first["next"]).json()
    assert [g["emoji"] for g in rest["results"]] == [THUMBS]
    assert rest["next"] is None
    back = client.get(rest["previous"]).json()
    assert [g["emoji"] for g in back["results"]] == [HEART]


def test_page_of_200_messages_with_reactions_has_fixed_query_count(
    client_for, group, alice, bob, send, django_assert_num_queries
):
    messages = [send(group, alice, f"m{i}") for i in range(200)]
    reactions = []
    for i, message in enumerate(messages):
        if i % 2:
            reactions.append(Reaction(message=message, user=alice, emoji=THUMBS))
            reactions.append(Reaction(message=message, user=bob, emoji=HEART))
    Reaction.objects.bulk_create(reactions)
    type(messages[0]).objects.filter(pk__in=[m.pk for m in messages[1::2]]).update(reaction_count=2)
    client = client_for(bob)
    client.get(f"/api/v1/chats/{group.pk}/messages/")  # the token's user, once
    # The page, then the reactions of all its messages at once (no attachments).
    with django_assert_num_queries(2):
        response = client.get(f"/api/v1/chats/{group.pk}/messages/", {"page_size": 200})
    results = response.json()["results"]
    assert len(results) == 200
    for body in results:
        if int(body["body"][1:]) % 2:
            assert body["reactions"] == [
                {"emoji": THUMBS, "count": 1, "me": False},
                {"emoji": HEART, "count": 1, "me": True},
            ]
        else:
            assert body["reactions"] == []
    with django_assert_num_queries(1):  # no message with reactions: no second query
        response = client.get("/api/v1/messages/mine/", {"page_size": 200})
    assert response.json()["results"] == []
    alice_client = client_for(alice)
    alice_client.get("/api/v1/messages/mine/")
    with django_assert_num_queries(2):
        response = alice_client.get("/api/v1/messages/mine/", {"page_size": 200})
    assert sum(1 for body in response.json()["results"] if body["reactions"]) == 100


def test_message_events_carry_reactions_without_me(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    message = send(group, alice)
    client_for(bob).post(url(message.pk), {"emoji": THUMBS}, format="json")
    sent_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alice).patch(f"/api/v1/messages/{message.pk}/", {"body": "edited"})
    (frame,) = sent_events.of_type("message.updated")
    assert frame["data"]["reactions"] == [{"emoji": THUMBS, "count": 1}]


def test_deleting_the_chat_or_the_message_removes_reactions(client_for, group, alice, bob, send):
    message = send(group, alice)
    other = send(group, alice)
    client_for(bob).post(url(message.pk), {"emoji": THUMBS}, format="json")
    client_for(bob).post(url(other.pk), {"emoji": THUMBS}, format="json")
    assert client_for(alice).delete(f"/api/v1/messages/{message.pk}/").status_code == 204
    assert Reaction.objects.count() == 1
    assert client_for(alice).delete(f"/api/v1/chats/{group.pk}/").status_code == 204
    assert not Reaction.objects.exists()


def test_deleting_an_account_takes_its_reactions_back(
    client_for, group, alice, bob, send, sent_events, django_capture_on_commit_callbacks
):
    message = send(group, alice)
    mine = send(group, bob)
    client_for(bob).post(url(message.pk), {"emoji": THUMBS}, format="json")
    client_for(alice).post(url(message.pk), {"emoji": THUMBS}, format="json")
    client_for(alice).post(url(mine.pk), {"emoji": HEART}, format="json")
    sent_events.clear()
    bob.set_password("pw-for-bob-1")
    bob.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(bob).delete(
            "/api/v1/users/me/", {"password": "pw-for-bob-1"}, format="json"
        )
    assert response.status_code == 204
    reacted = [f["data"] for f in sent_events.of_type("message.reacted")]
    assert reacted == [
        {
            "id": message.pk,
            "emoji": THUMBS,
            "count": 1,
            "user": {"id": bob.pk, "username": "bob"},
            "reacted": False,
        }
    ]
    body = client_for(alice).get(f"/api/v1/messages/{message.pk}/").json()
    assert body["reactions"] == [{"emoji": THUMBS, "count": 1, "me": True}]
    assert Reaction.objects.count() == 1


@pytest.mark.parametrize("path_emoji", ["%00", "%FF", "%F0%9F", "x" * 300, "%25", "..", "%2F"])
def test_unreact_with_odd_path_segments_never_fails(client_for, group, alice, send, path_emoji):
    message = send(group, alice)
    client_for(alice).post(url(message.pk), {"emoji": THUMBS}, format="json")
    response = client_for(alice).delete(f"/api/v1/messages/{message.pk}/reactions/{path_emoji}/")
    # A NUL anywhere in a request is refused by the API's own guard (400).
    assert response.status_code in (200, 400, 404)
    body = client_for(alice).get(f"/api/v1/messages/{message.pk}/").json()
    assert body["reactions"] == [{"emoji": THUMBS, "count": 1, "me": True}]


def test_emoji_with_a_nul_is_400(client_for, group, alice, send):
    message = send(group, alice)
    response = client_for(alice).post(url(message.pk), {"emoji": "👍\x00"}, format="json")
    assert response.status_code == 400
    assert not Reaction.objects.exists()
