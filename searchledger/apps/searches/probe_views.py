"""Pages for a search's probe image: its page (status, and the upload form for the search's
officer) and the image itself, served only after its view is recorded on the ledger."""

from __future__ import annotations

import logging

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from searchledger.apps.searches import probes
from searchledger.apps.searches.models import ProbeImage
from searchledger.apps.searches.selectors import access_search_by_id
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires
from searchledger.core.roles import Permission

__all__ = ["ProbeUploadForm", "probe_image", "probe_page"]

logger = logging.getLogger("searchledger.probes")


class ProbeUploadForm(forms.Form):
    """The probe image file; its type and size are checked by the action."""

    image = forms.FileField(
        label="Probe image (JPEG or PNG)",
        help_text=f"At most {probes.MAX_PROBE_BYTES // (1024 * 1024)} MB. Stored encrypted; "
        "every view of it is recorded on the ledger.",
    )


@requires(Permission.REQUEST_SEARCH)
@require_http_methods(["GET", "POST"])
def probe_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The probe image's status (stored, kept until, destroyed; its hash), and for the
    search's officer the form to store it. Shows no image and nothing of the record but
    its id and system, so it is not itself a view of the record."""
    actor = actor_from_request(request)
    search = access_search_by_id(pk, actor)
    image = ProbeImage.objects.filter(search=search).first()
    form = ProbeUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["image"]
        try:
            probes.do_store_probe_image(
                search.pk,
                upload.read(probes.MAX_PROBE_BYTES + 1),
                upload.content_type or "",
                actor=actor,
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"The probe image of search {search.pk} is stored.")
            return redirect("searches:probe", pk=search.pk)
    policy = search.policy
    return render(
        request,
        "searches/probe_page.html",
        {
            "search": search,
            "image": image,
            "form": form,
            "may_store": (
                image is None
                and policy.store_probe_images
                and actor.account_id == search.officer_id
            ),
            "policy": policy,
        },
    )


@requires(Permission.VIEW_HOME)
@require_GET
def probe_image(request: HttpRequest, pk: int) -> HttpResponse:
    """The decrypted probe image, for anyone who may see the search (the selectors' scope
    decides, so every signed-in role may ask). The view is on the ledger before a byte is
    sent; nothing is cached."""
    try:
        probe = probes.do_view_probe_image(pk, actor=actor_from_request(request), channel="web")
    except probes.ProbeImageGone as exc:
        response = render(
            request, "searches/probe_gone.html", {"messages_": exc.messages}, status=410
        )
    except (probes.ProbeDecryptionError, probes.ProbeKeyError) as exc:
        # Tampering or a key problem: nothing is shown (and the view's entry rolled back).
        logger.error("probe image of search %s not shown: %s", pk, exc)
        response = render(
            request,
            "searches/probe_gone.html",
            {
                "messages_": [
                    f"The probe image of search {pk} failed its integrity check and is not "
                    "shown. The failure is in the application log; tell an administrator."
                ]
            },
            status=500,
        )
    else:
        response = HttpResponse(probe.data, content_type=probe.content_type)
        response["Content-Disposition"] = f'inline; filename="search-{pk}-probe"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    return response
