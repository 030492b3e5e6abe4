"""Console forms: input shapes of the steward actions (the services hold the rules)."""

from __future__ import annotations

from typing import Any

from django import forms

from mdm.choices import Domain

from .services import BULK_MIN_PROBABILITY

REASON_HELP = "Why: kept in the audit trail and the record's history."


class MergeForm(forms.Form):
    survivor = forms.ChoiceField(label="Golden ID that survives", widget=forms.RadioSelect)
    reason = forms.CharField(required=False, max_length=1000, help_text=REASON_HELP)

    def __init__(self, *args: Any, survivors: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["survivor"].choices = survivors
        if survivors:
            self.fields["survivor"].initial = survivors[0][0]


class RejectForm(forms.Form):
    reason = forms.CharField(required=False, max_length=1000, help_text=REASON_HELP)


class SplitForm(forms.Form):
    reason = forms.CharField(max_length=1000, help_text=REASON_HELP)


class MoveForm(forms.Form):
    target = forms.UUIDField(label="Target golden ID")
    reason = forms.CharField(max_length=1000, help_text=REASON_HELP)


class PinForm(forms.Form):
    attribute = forms.ChoiceField()
    value = forms.CharField(max_length=2000, help_text="Comma-separated for multi-valued attributes.")
    reason = forms.CharField(max_length=1000, help_text=REASON_HELP)

    def __init__(self, *args: Any, attributes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attribute"].choices = [(a, a) for a in attributes]


class UnpinForm(forms.Form):
    attribute = forms.CharField(max_length=60)
    reason = forms.CharField(required=False, max_length=1000)


class BulkAcceptForm(forms.Form):
    domain = forms.ChoiceField(choices=[("", "all domains"), *Domain.choices], required=False)
    min_probability = forms.FloatField(
        initial=BULK_MIN_PROBABILITY, min_value=BULK_MIN_PROBABILITY, max_value=1.0
    )
    reason = forms.CharField(required=False, max_length=1000)
