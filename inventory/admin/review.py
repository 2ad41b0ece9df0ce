"""The review queue in admin: suggestions with the evidence side by side, accept or reject one or many, and
"accept every suggestion at or above a confidence" for one retailer. Everything goes through
``inventory.matching.review`` (a person's decision: never overwritten by matching; held rows attach)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.html import format_html, format_html_join

from audit import actions as audit_actions
from audit import record as audit
from inventory.matching import review
from inventory.models import Retailer


class SuggestionFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("suggested", "Has a suggestion to review"), ("unresolved", "Unmapped, no suggestion")]

    def queryset(self, request, queryset):
        target = request._review_target  # set by ReviewQueueMixin.get_queryset
        if self.value() == "suggested":
            return queryset.filter(**{f"{target}__isnull": True, f"suggested_{target}__isnull": False})
        if self.value() == "unresolved":
            return queryset.filter(**{f"{target}__isnull": True, f"suggested_{target}__isnull": True})
        return queryset


class AcceptAboveForm(forms.Form):
    retailer = forms.ModelChoiceField(queryset=Retailer.objects.order_by("name"))
    threshold = forms.FloatField(min_value=0, max_value=1, initial=0.5,
                                 help_text="Accept every pending suggestion with at least this confidence (0-1).")


class ReviewQueueMixin:
    """Added to the mapping admins. ``evidence_rows(obj)`` lists (label, this record, suggested target).

    The queue (``?review=suggested``) shows ``review_list_display``: the evidence table already holds both sides'
    names, codes and the reason, so the record's own columns, retailer and flags (all filters on the right) would
    only squeeze it at 1280 px."""

    target = ""
    review_list_display: list[str] = []

    def get_list_display(self, request):
        if request.GET.get(SuggestionFilter.parameter_name) == "suggested" and self.review_list_display:
            return self.review_list_display
        return super().get_list_display(request)

    def get_queryset(self, request):
        request._review_target = self.target
        return super().get_queryset(request).select_related(f"suggested_{self.target}")

    @admin.display(description="suggestion")
    def suggestion(self, obj):
        suggested = getattr(obj, f"suggested_{self.target}")
        if suggested is None:
            return "-"
        return format_html("{} <small>({})</small>", suggested, f"{obj.suggestion_confidence or 0:.0%}")

    @admin.display(description="decision")
    def decision(self, obj):
        if obj.match_reason or obj.suggestion_reason:
            confidence = "" if obj.match_confidence is None else f"{obj.match_confidence:.0%} "
            return format_html("<small>{}{}</small>", confidence, obj.match_reason or obj.suggestion_reason)
        return "-"

    @admin.display(description="evidence (this record | suggested)")
    def evidence(self, obj):
        suggested = getattr(obj, f"suggested_{self.target}")
        if suggested is None:
            return "-"
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
                                ((label, mine or "-", theirs or "-") for label, mine, theirs in
                                 self.evidence_rows(obj, suggested)))
        return format_html('<table class="evidence"><tbody>{}</tbody></table><small><b>{}</b> {}</small>', rows,
                           f"{obj.suggestion_confidence or 0:.0%}", obj.suggestion_reason)

    def get_urls(self):
        from django.urls import path

        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path("accept-above/", self.admin_site.admin_view(self.accept_above_view),
                 name="{}_{}_accept_above".format(*info)),
            *super().get_urls(),
        ]

    def accept_above_view(self, request):
        if not self.has_change_permission(request):
            return redirect("admin:index")
        form = AcceptAboveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            retailer, threshold = form.cleaned_data["retailer"], form.cleaned_data["threshold"]
            with transaction.atomic():
                accepted = review.accept_above(self.model, retailer.pk, threshold, who=f"staff {request.user}")
                audit(audit_actions.MATCH_ACCEPT, request=request, retailer=retailer, count=accepted,
                      above=threshold, kind=self.target)
            self.message_user(request, f"Accepted {accepted} suggestion(s).", messages.SUCCESS)
            return redirect(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist")
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": f"Accept {self.model._meta.verbose_name} suggestions above a confidence"}
        return render(request, "admin/inventory/accept_above.html", context)

    def _audit(self, request, queryset, action, count):
        retailers = set(queryset.values_list("retailer", flat=True).distinct()[:2])
        retailer = Retailer.objects.get(pk=retailers.pop()) if len(retailers) == 1 else None
        audit(action, request=request, retailer=retailer, count=count, kind=self.target,
              mappings=list(queryset.values_list("pk", flat=True)[:50]))

    @admin.action(description="Accept the suggestion of the selected rows")
    def accept_suggestions(self, request, queryset):
        with transaction.atomic():
            accepted = review.accept(queryset.select_related(f"suggested_{self.target}"),
                                     who=f"staff {request.user}")
            self._audit(request, queryset, audit_actions.MATCH_ACCEPT, accepted)
        self.message_user(request, f"Accepted {accepted} suggestion(s).", messages.SUCCESS)

    @admin.action(description="Reject the suggestion of the selected rows")
    def reject_suggestions(self, request, queryset):
        with transaction.atomic():
            rejected = review.reject(queryset, who=f"staff {request.user}")
            self._audit(request, queryset, audit_actions.MATCH_REJECT, rejected)
        self.message_user(request, f"Rejected {rejected} suggestion(s); they stay unmapped for a person.",
                          messages.SUCCESS)
