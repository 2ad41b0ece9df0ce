"""Who can see and touch the trail: staff read it in admin (search/filter by retailer, user, action) and cannot
add, change or delete; a merchant sees its own retailer's entries in the portal and never another's."""

import pytest
from django.urls import reverse

from audit import record
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries(retailer, other_retailer, merchant_user, other_merchant_user):
    mine = record("connection.test", actor=merchant_user, retailer=retailer, connection=None)
    theirs = record("connection.disconnect", actor=other_merchant_user, retailer=other_retailer,
                    details_marker="rival-only")
    staff_wide = record("keys.rotate", actor="command rotate_fernet_keys")
    return mine, theirs, staff_wide


def test_admin_lists_and_filters_but_cannot_add_change_or_delete(staff, entries, retailer, other_merchant_user):
    mine, theirs, staff_wide = entries
    changelist = reverse("admin:audit_auditentry_changelist")

    def listed(**query):
        response = staff.get(changelist, query)
        assert response.status_code == 200
        return {e.pk for e in response.context["cl"].result_list}

    assert listed() >= {mine.pk, theirs.pk, staff_wide.pk}
    assert listed(retailer__id__exact=retailer.pk) == {mine.pk}
    assert listed(action="keys.rotate") == {staff_wide.pk}
    assert listed(actor_user__id__exact=other_merchant_user.pk) == {theirs.pk}
    assert listed(q="rival") == {theirs.pk}

    assert staff.get(reverse("admin:audit_auditentry_add")).status_code == 403
    change_url = reverse("admin:audit_auditentry_change", args=[mine.pk])
    view = staff.get(change_url)
    assert view.status_code == 200 and 'name="_save"' not in view.content.decode()
    staff.post(change_url, {"action": "edited", "outcome": "failure", "actor_label": "someone else"})
    assert staff.post(reverse("admin:audit_auditentry_delete", args=[mine.pk]), {"post": "yes"}).status_code == 403
    staff.post(changelist, {"action": "delete_selected", "_selected_action": [mine.pk], "post": "yes"})
    mine_now = AuditEntry.objects.get(pk=mine.pk)
    assert (mine_now.action, mine_now.outcome, mine_now.actor_label) == ("connection.test", "success",
                                                                          "acme-merchant")


def test_merchant_sees_only_its_own_retailers_entries(merchant_client, entries):
    mine, theirs, staff_wide = entries
    page = merchant_client.get("/portal/activity/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-entry="{mine.pk}"' in html and "Tested a connection" in html
    assert f'data-entry="{theirs.pk}"' not in html and "rival-merchant" not in html
    assert f'data-entry="{staff_wide.pk}"' not in html, "a staff-wide entry belongs to no merchant"
    portal = merchant_client.get("/portal/").content.decode()
    assert "Recent activity" in portal and 'href="/accounts/two-factor/"' in portal


def test_merchants_see_that_shelfops_staff_acted_not_who_or_from_where(merchant_client, staff_user, retailer, rf):
    request = rf.get("/", REMOTE_ADDR="10.9.8.7")
    request.user = staff_user
    record("connection.disconnect", request=request, retailer=retailer)
    html = merchant_client.get("/portal/activity/").content.decode()
    assert "ShelfOps staff" in html and "10.9.8.7" not in html and ">ops<" not in html


def test_activity_needs_a_login_and_a_retailer(client, staff, entries):
    assert client.get("/portal/activity/").status_code == 302
    assert staff.get("/portal/activity/").status_code == 403, "staff without a retailer read the trail in admin"
