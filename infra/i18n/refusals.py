"""Refusals in the reader's language and words: one sentence per problem code, built from
the facts the refusal is about (`domain.errors.Facts`: the criterion, the stage, a date).

The API answers a refusal with its stable `code`, an English `detail` and its `facts`;
every page that shows a refusal (the portal's forms, its error page, the confirmation
steps) says it with `say()` instead, so a Spanish or Portuguese page shows no English
sentence and no code. `tests/unit/test_refusals.py` finds every code the program can
refuse with (the domain, the workflows, the adapters) and fails while one has no sentence
here, or a sentence lacks a translation, or a raise site leaves out a fact its sentence
names.

How facts are shown: a whole number in the language's digits, a fact named `*_on` (an
ISO date) as the language writes dates, the facts in `WORD_FACTS` (a stage, a kind of
document) translated as words; the rest (a city's name, a criterion's code, a link) as
given. A sentence whose facts did not all come (an older worker, a refusal without them)
falls back to the sentence for the answer's status: less precise, never English."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from babel import Locale, numbers

from infra.i18n.catalogs import Language
from infra.i18n.words import N_

# Problem code -> its sentence, with %(fact)s placeholders.
REFUSALS: dict[str, str] = {
    # The rules of the program (domain/errors.py defaults first).
    "refused": N_("The program's rules do not allow this now."),
    "not_allowed": N_("This is not allowed in the city's current state."),
    "invalid_standard": N_("The standard cannot be used as it is."),
    "standard_incomplete": N_("The standard %(standard)s is not complete yet, so it cannot "
                              "be used."),
    "unknown_standard": N_("No such standard is known, or none was in force on that date."),
    "invalid_assessment": N_("These answers do not fit the standard: an unknown checklist "
                             "item or outcome, or nothing answered yet."),
    "invalid_command": N_("A value is outside the program's bounds."),
    "ineligible": N_("%(name)s cannot join: the program takes %(eligible)s with at least "
                     "%(minimum)s residents."),
    # A city's application.
    "not_joined": N_("The city has not joined the network."),
    "already_joined": N_("The city has already joined the network."),
    "withdrawn": N_("The city has withdrawn from the network."),
    "no_application": N_("The city has no application open: reapply to open one."),
    "application_open": N_("An application is already open for this city."),
    "wrong_stage": N_("This cannot be done now: the application is %(stage)s."),
    "stale_version": N_("These answers were changed elsewhere since this page was loaded: "
                        "reload it to see them, then try again."),
    "unknown_criterion": N_("The standard has no criterion %(criterion)s."),
    "missing_evidence": N_("%(criterion)s is claimed as met but lacks its evidence: "
                           "%(needed)s (%(given)s of %(wanted)s links or documents given)."),
    "invalid_link": N_("Evidence must be a web link starting with https:// or http://; "
                       "%(link)s is not one."),
    "unconfirmed_carry_over": N_("Criteria carried over from the last review are not "
                                 "confirmed yet: %(criterion)s. Confirm each still holds, "
                                 "or change its answer, before submitting."),
    "invalid_valid_through": N_("The valid-through date %(date)s in %(field)s cannot be "
                                "used: it must be today or later, and at most 10 years "
                                "ahead."),
    "too_early": N_("Not yet: this is possible from %(from_on)s."),
    # Evidence documents.
    "invalid_document": N_("This file cannot be taken as a document."),
    "invalid_document_name": N_("The file name %(name)s cannot be used: it may not hold a "
                                "path (/, \\ or ..) or control characters. Rename the file "
                                "and try again."),
    "unsupported_document_type": N_("%(name)s is not a kind of document the program takes: "
                                    "PDF, office documents, CSV, PNG, JPEG, GIF or WebP "
                                    "images, or plain UTF-8 text."),
    "empty_document": N_("The file is empty."),
    "document_too_large": N_("The file is larger than the %(limit)s MB a document may "
                             "have."),
    "city_documents_too_large": N_("The application's documents would take more than the "
                                   "%(limit)s MB a city may keep (%(used)s MB already): "
                                   "remove some first."),
    "unknown_document": N_("%(criterion)s has no such document."),
    "document_altered": N_("The stored file of this document no longer matches the hash "
                           "recorded when it was added: it was altered since. The program's "
                           "operators can restore it from a backup."),
    # The review.
    "conflict_of_interest": N_("%(reviewer)s is affiliated with %(city)s, so they may not "
                               "review it (conflict of interest)."),
    "unknown_reviewer": N_("%(reviewer)s is not an active reviewer's account."),
    "already_answered": N_("Question %(number)s has already been answered."),
    "unknown_clarification": N_("There is no question %(number)s."),
    "clarification_open": N_("Questions still awaiting the city's answer: %(numbers)s."),
    "review_incomplete": N_("Criteria the city claims that have no verdict yet: "
                            "%(criteria)s."),
    "review_not_complete": N_("A decision needs a completed review; the application is "
                              "%(stage)s."),
    # Decisions, cohorts, renewals and deadlines.
    "not_certified": N_("This city is not certified, so this does not apply to it."),
    "cohort_exists": N_("The cohort %(cohort)s already exists: choose another id."),
    "past_date": N_("A cohort cannot be announced on %(day_on)s: that day is past."),
    "date_too_far": N_("That date is too far ahead: the latest a cohort may be announced "
                       "on is %(latest_on)s."),
    "already_announced": N_("This cohort has already been announced."),
    "future_date": N_("An announcement cannot be dated %(day_on)s, a day still to come."),
    "before_decision": N_("An announcement cannot come before the decision of "
                          "%(decided_on)s."),
    "already_sent": N_("The %(days)s-day reminder has already been sent."),
    "no_deadline": N_("No such deadline is pending."),
    "not_due": N_("That deadline comes only on %(due_on)s."),
    # A day asked for (the program in numbers).
    "not_a_day": N_("%(value)s is not a day: write it as YYYY-MM-DD."),
    "day_to_come": N_("%(day_on)s is still to come: ask for today (%(today_on)s) or a day "
                      "before it."),
    # Accounts and tokens.
    "exists": N_("%(what)s already exists."),
    "not_found": N_("Nothing by that name exists."),
    "disabled": N_("The account %(email)s is disabled."),
    "invalid_account": N_("The role and the cities or affiliations do not fit: a city "
                          "editor needs at least one city, and only a reviewer has "
                          "affiliations."),
    "invalid_token": N_("A token must last from 1 to 366 days."),
    "unknown_city": N_("%(city)s has not joined the network: check the key, or name a city "
                       "still to join by its name and country."),
    "weak_password": N_("A password needs from %(minimum)s to %(maximum)s characters."),
    "throttled": N_("Too many failed attempts: wait a few minutes and try again."),
    # Onboarding: invitations, links to choose a password, one-time passwords.
    "needs_admin": N_("Only an admin manages accounts."),
    "has_password": N_("%(email)s has chosen a password already: send a password reset "
                       "instead."),
    "link_unknown": N_("This is not a link of ours: it may have been cut short or mistyped."),
    "link_used": N_("This link has been used already: a link sets a password once."),
    "link_replaced": N_("A newer link was sent since, or the password was changed since: "
                        "only the newest link works."),
    "link_expired": N_("This link expired on %(expired_on)s."),
    "own_account": N_("You cannot disable your own account: another admin may."),
    "last_admin": N_("%(email)s is the last active admin: make another admin first."),
    "password_change_required": N_("Your password was set by an administrator: change it "
                                   "before anything else."),
    "wrong_password": N_("The current password is wrong."),
    "reason_needed": N_("Say why the account is disabled: it is recorded in its history."),
    # The request itself.
    "duplicate_key": N_("The request names a field twice."),
    "too_deep": N_("The request is nested too deeply."),
    "unstorable_value": N_("A value cannot be stored (it holds a character the database "
                           "refuses)."),
    "idempotency_key_reused": N_("This request was already used for something else: reload "
                                 "the page and try again."),
    "idempotency_in_progress": N_("The same request is still running: wait a moment and "
                                  "reload the page."),
    "idempotency_secret_not_kept": N_("This request was already answered with a secret "
                                      "shown only once: start again."),
}

# What an answer's status says when there is no code, or its facts did not all come.
BY_STATUS: dict[int, str] = {
    400: N_("The request could not be read."),
    401: N_("Your session has ended: sign in again."),
    403: N_("Your account may not do this."),
    404: N_("There is nothing here, or it is not yours to see."),
    409: N_("The program's rules do not allow this now."),
    413: N_("This is too large to send."),
    422: N_("Something entered is not valid: check the form and try again."),
    428: N_("This page is out of date: reload it."),
    429: N_("Too many failed attempts: wait a few minutes and try again."),
    500: N_("Something went wrong on our side; it has been logged."),
    503: N_("The service is not answering right now: try again in a moment."),
}
OTHERWISE = N_("Something went wrong; nothing new was recorded. Try again.")

# Facts that are words of the program (translated), not names.
WORD_FACTS = frozenset({"stage", "eligible", "needed"})
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def placeholders(template: str) -> set[str]:
    """The facts a sentence names."""
    return set(_PLACEHOLDER.findall(template))


def say(language: Language, *, status: int, code: str | None = None,
        facts: Mapping[str, object] | None = None) -> str:
    """The refusal in `language`: its code's sentence with its facts, else its status's."""
    template = REFUSALS.get(code or "")
    given = facts or {}
    if template is not None and all(given.get(name) not in (None, "")
                                    for name in placeholders(template)):
        return language.gettext(template) % {
            name: _shown(language, name, given[name]) for name in placeholders(template)}
    return language.gettext(BY_STATUS.get(status, OTHERWISE))


def _shown(language: Language, name: str, value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return numbers.format_decimal(value, locale=Locale.parse(language.code))
    text = str(value)
    if name.endswith("_on"):
        try:
            return language.date(date.fromisoformat(text))
        except ValueError:
            return text
    if name in WORD_FACTS:
        return language.gettext(text.replace("_", " "))
    return text
