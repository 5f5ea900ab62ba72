"""The seller's review of what the bot learned: pending entries with their source excerpt;
approve, edit then approve, dismiss, in bulk too; filters; manual entries."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from learning.csv_io import MAX_BYTES, knowledge_csv_rows, knowledge_import
from learning.models import KnowledgeEntry
from learning.services import knowledge_create_manual, knowledge_edit, knowledge_review
from ma5zani.inputs import strict_int

# Each form under its own name, written in that form (not translated).
LANGUAGES = [
    ("ar", "الدارجة (بالحروف العربية)"),
    ("msa", "العربية الفصحى"),
    ("arabizi", "Darija (Arabizi)"),
    ("fr", "Français"),
    ("en", "English"),
]


def knowledge_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", KnowledgeEntry.Status.PENDING)
    if status not in KnowledgeEntry.Status.values and status != "all":
        status = KnowledgeEntry.Status.PENDING
    language = request.GET.get("language", "")
    entries = KnowledgeEntry.objects.prefetch_related("sources")
    if status != "all":
        entries = entries.filter(status=status)
    if language in dict(LANGUAGES):
        entries = entries.filter(language=language)
    page = Paginator(entries.order_by("-count", "-created_at"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "learning/knowledge.html",
        {
            "page": page,
            "status": status,
            "language": language,
            "statuses": KnowledgeEntry.Status.choices,
            "language_choices": LANGUAGES,
            "pending": KnowledgeEntry.objects.filter(status=KnowledgeEntry.Status.PENDING).count(),
        },
    )


@require_POST
def knowledge_bulk(request: HttpRequest) -> HttpResponse:
    ids = [pk for pk in map(strict_int, request.POST.getlist("entry")) if pk is not None]
    action = request.POST.get("action", "")
    for one, status in (
        ("approve_one", KnowledgeEntry.Status.APPROVED),
        ("dismiss_one", KnowledgeEntry.Status.DISMISSED),
    ):
        pk = strict_int(request.POST.get(one, ""))
        if pk is not None:  # the button of one entry
            ids, action = [pk], status
    try:
        changed = knowledge_review(
            entries=KnowledgeEntry.objects.filter(pk__in=ids), status=action, reviewer_id=int(request.user.pk or 0)
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(count)d entries updated.") % {"count": changed})
    target = request.POST.get("next", "")
    return redirect(
        target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "knowledge:list"
    )


def _entry_form(request: HttpRequest, entry: KnowledgeEntry | None) -> HttpResponse:
    """Edit then approve an entry, or write a new one (approved at once): one form for both."""
    errors: dict[str, list[str]] = {}
    question = request.POST.get("question", entry.question if entry else "")
    answer = request.POST.get("answer", entry.answer if entry else "")
    language = request.POST.get("language", "fr")
    if request.method == "POST":
        reviewer_id = int(request.user.pk or 0)
        try:
            if entry is None:
                knowledge_create_manual(question=question, answer=answer, language=language, reviewer_id=reviewer_id)
            else:
                knowledge_edit(entry=entry, question=question, answer=answer, reviewer_id=reviewer_id)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(
                request, _("Entry added: the bot uses it now.") if entry is None else _("Entry saved and approved.")
            )
            return redirect("knowledge:list")
    context = {"entry": entry, "errors": errors, "question": question, "answer": answer, "language": language}
    return render(request, "learning/knowledge_edit.html", {**context, "language_choices": LANGUAGES})


def knowledge_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _entry_form(request, get_object_or_404(KnowledgeEntry, pk=pk))


def knowledge_create_view(request: HttpRequest) -> HttpResponse:
    return _entry_form(request, None)


def knowledge_export(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        knowledge_csv_rows(KnowledgeEntry.objects.order_by("language", "-count").iterator(chunk_size=500)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="answers-{timezone.localtime():%Y%m%d-%H%M}.csv"'
    return response


@require_POST
def knowledge_import_view(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a CSV file."))
        return redirect("knowledge:list")
    try:
        result = knowledge_import(upload.read(MAX_BYTES + 1), reviewer_id=int(request.user.pk or 0))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("knowledge:list")
    messages.success(
        request,
        _("%(created)d answers added, %(updated)d updated.") % {"created": result.created, "updated": result.updated},
    )
    for number, error in result.errors[:20]:
        messages.error(request, _("Line %(number)d: %(error)s") % {"number": number, "error": error})
    return redirect("knowledge:list")
