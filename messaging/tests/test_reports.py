"""1.1 reports: POST messages/{id}/report/, GET chats/{id}/reports/ and the admin's
moderation queue (its actions go through messaging.services)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from chats.models import Membership
from chats.tests.factories import direct_chat
from messaging.models import Message, Report
from messaging.services import message_report
from messaging.tests.conftest import add_member

pytestmark = pytest.mark.django_db


def report_url(message_id):
    return f"/api/v1/messages/{message_id}/report/"


def reports_url(chat_id):
    return f"/api/v1/chats/{chat_id}/reports/"


def test_report_201_then_200_with_the_same_report(client_for, group, alice, bob, send):
    message = send(group, alice, "buy cheap stuff")
    client = client_for(bob)
    first = client.post(report_url(message.pk), {"reason": "spam", "note": "ads"}, format="json")
    assert first.status_code == 201
    body = first.json()
    assert body == {
        "id": body["id"],
        "message_id": message.pk,
        "reason": "spam",
        "note": "ads",
        "status": "open",
        "created_at": body["created_at"],
    }
    again = client.post(report_url(message.pk), {"reason": "abuse"}, format="json")
    assert again.status_code == 200
    assert again.json() == body
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [{}, {"reason": "rude"}, {"reason": 1}, {"reason": "spam", "note": "x" * 501}],
)
def test_invalid_report_is_400(client_for, group, alice, bob, send, data):
    message = send(group, alice)
    response = client_for(bob).post(report_url(message.pk), data, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"reason", "note"}
    assert not Report.objects.exists()


def test_own_message_is_400_non_member_403_hidden_404(client_for, group, alice, bob, carol, send):
    message = send(group, alice)
    own = client_for(alice).post(report_url(message.pk), {"reason": "other"}, format="json")
    assert own.status_code == 400
    assert "non_field_errors" in own.json()
    outsider = client_for(carol).post(report_url(message.pk), {"reason": "spam"}, format="json")
    assert outsider.status_code == 403
    dm = send(direct_chat(alice, bob), alice)
    hidden = client_for(carol).post(report_url(dm.pk), {"reason": "spam"}, format="json")
    assert hidden.status_code == 404
    assert not Report.objects.exists()


def test_chat_reports_for_owner_and_admins_only_open_oldest_first(
    client_for, group, alice, bob, carol, send, django_assert_num_queries
):
    add_member(group, carol)
    messages = [send(group, alice, f"bad {i}") for i in range(60)]
    reporters = [bob, carol]
    reports = [
        message_report(message=m, user=reporters[i % 2], reason="abuse", note=f"n{i}")[0]
        for i, m in enumerate(messages)
    ]
    Report.objects.filter(pk=reports[0].pk).update(status=Report.Status.DISMISSED)
    owner = client_for(alice)
    owner.get(reports_url(group.pk))  # the token's user, once
    # The chat with the caller's role, the page of reports, their messages (no attachments).
    with django_assert_num_queries(3):
        response = owner.get(reports_url(group.pk), {"page_size": 50})
    assert response.status_code == 200
    first = response.json()
    assert [r["id"] for r in first["results"]] == [r.pk for r in reports[1:51]]
    row = first["results"][0]
    assert row["status"] == "open" and row["note"] == "n1" and row["reason"] == "abuse"
    assert row["message"]["id"] == messages[1].pk and row["message"]["body"] == "bad 1"
    rest = owner.get(first["next"]).json()
    assert [r["id"] for r in rest["results"]] == [r.pk for r in reports[51:]]
    # A plain member: 403; an admin may.
    denied = client_for(bob).get(reports_url(group.pk))
    assert denied.status_code == 403
    assert denied.json()["code"] == "permission_denied"
    Membership.objects.filter(chat=group, user=bob).update(role=Membership.Role.ADMIN)
    assert client_for(bob).get(reports_url(group.pk)).status_code == 200
    outsider = client_for(UserFactory())
    assert outsider.get(reports_url(group.pk)).status_code == 403
    assert outsider.get(reports_url(direct_chat(alice, bob).pk)).status_code == 404


def test_deleting_a_message_actions_its_reports_and_keeps_its_text(
    client_for, group, alice, bob, send
):
    message = send(group, alice, "offensive words")
    client_for(bob).post(report_url(message.pk), {"reason": "abuse"}, format="json")
    assert client_for(alice).delete(f"/api/v1/messages/{message.pk}/").status_code == 204
    report = Report.objects.get()
    assert report.status == Report.Status.ACTIONED
    assert report.message_body == "offensive words"
    assert report.message_author_username == "alice"
    assert client_for(alice).get(reports_url(group.pk)).json()["results"] == []


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


QUEUE = "admin:messaging_report_changelist"


def test_moderation_queue_one_row_per_message_open_first(
    group, alice, bob, carol, send, staff_client, django_assert_max_num_queries
):
    add_member(group, carol)
    handled = send(group, alice, "handled already")
    message_report(message=handled, user=bob, reason="spam")
    Report.objects.update(status=Report.Status.DISMISSED)
    many = [send(group, alice, f"reported text {i}") for i in range(40)]
    for message in many:
        message_report(message=message, user=bob, reason="spam")
        message_report(message=message, user=carol, reason="abuse", note="rude")
    with django_assert_max_num_queries(8):
        response = staff_client.get(reverse(QUEUE))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("reported text ") == 40
    assert "spam: 1, abuse: 1" in page
    assert page.index("reported text 0") < page.index("handled already")
    with django_assert_max_num_queries(8):
        open_only = staff_client.get(reverse(QUEUE) + "?handled=no").content.decode()
    assert "handled already" not in open_only


def test_queue_actions_delete_and_dismiss_through_the_services(
    client_for,
    group,
    alice,
    bob,
    carol,
    send,
    staff_client,
    sent_events,
    django_capture_on_commit_callbacks,
):
    add_member(group, carol)
    bad, fine = send(group, alice, "really bad"), send(group, alice, "fine really")
    for message in (bad, fine):
        message_report(message=message, user=bob, reason="abuse")
        message_report(message=message, user=carol, reason="other")
    first_of = {m: Report.objects.filter(message_id=m.pk).order_by("id")[0].pk for m in (bad, fine)}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse(QUEUE),
            {"action": "delete_reported_messages", "_selected_action": [first_of[bad]]},
        )
    assert response.status_code == 302
    assert not Message.objects.filter(pk=bad.pk).exists()
    assert [f["data"] for f in sent_events.of_type("message.deleted")] == [{"id": bad.pk}]
    assert set(Report.objects.filter(message_id=bad.pk).values_list("status", flat=True)) == {
        "actioned"
    }
    staff_client.post(
        reverse(QUEUE), {"action": "dismiss_reports", "_selected_action": [first_of[fine]]}
    )
    assert set(Report.objects.filter(message_id=fine.pk).values_list("status", flat=True)) == {
        "dismissed"
    }
    assert Message.objects.filter(pk=fine.pk).exists()
    # The deleted message still shows with its text and author in the queue.
    page = staff_client.get(reverse(QUEUE)).content.decode()
    assert "really bad" in page and "alice" in page
    # Its detail page opens too.
    detail = staff_client.get(reverse("admin:messaging_report_change", args=[first_of[bad]]))
    assert detail.status_code == 200


def test_queue_is_staff_only(group, alice, bob, send, client_for):
    message_report(message=send(group, alice), user=bob, reason="spam")
    client = Client()
    client.force_login(bob)
    response = client.get(reverse(QUEUE))
    assert response.status_code == 302  # to the admin login


def test_deleting_accounts_and_chats(client_for, group, alice, bob, send):
    message = send(group, alice, "from alice")
    client_for(bob).post(report_url(message.pk), {"reason": "spam"}, format="json")
    alice.set_password("pw-for-alice-1")
    alice.save()
    response = client_for(alice).delete(
        "/api/v1/users/me/", {"password": "pw-for-alice-1"}, format="json"
    )
    assert response.status_code == 204
    report = Report.objects.get()
    assert report.status == Report.Status.ACTIONED
    assert report.message_body == "from alice" and report.message_author_username == "alice"
    # bob owns the chat now (alice's ownership passed on); deleting it takes its reports.
    assert client_for(bob).delete(f"/api/v1/chats/{group.pk}/").status_code == 204
    assert not Report.objects.exists()
