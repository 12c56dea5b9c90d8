import json

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse, HttpResponseRedirect
from django.test import RequestFactory
from django_htmx.middleware import HtmxMiddleware

from crm_core.common.middleware import HtmxMessagesMiddleware


def _run(view_response, headers=None):
    def view(request):
        messages.success(request, "تم الحفظ")
        return view_response

    request = RequestFactory().post("/x/", headers=headers or {})
    request.session = {}
    request._messages = FallbackStorage(request)
    response = HtmxMiddleware(HtmxMessagesMiddleware(view))(request)
    return request, response


def test_htmx_fragment_carries_messages_as_a_toast_trigger():
    request, response = _run(HttpResponse("fragment"), {"HX-Request": "true"})
    payload = json.loads(response["HX-Trigger"])
    assert payload["crm:toast"]["messages"] == [{"text": "تم الحفظ", "level": "success"}]
    # Marked used: MessageMiddleware drops them, so they do not show again on the next page.
    assert request._messages.used


def test_existing_trigger_is_kept():
    fragment = HttpResponse("fragment")
    fragment["HX-Trigger"] = "orderSaved"
    _, response = _run(fragment, {"HX-Request": "true"})
    payload = json.loads(response["HX-Trigger"])
    assert "orderSaved" in payload and "crm:toast" in payload


@pytest.mark.parametrize(
    ("response", "headers"),
    [(HttpResponse("page"), {}), (HttpResponseRedirect("/next/"), {"HX-Request": "true"})],
    ids=["plain-request", "htmx-redirect"],
)
def test_messages_stay_queued_for_the_next_full_page(response, headers):
    request, response = _run(response, headers)
    assert "HX-Trigger" not in response
    assert not request._messages.used
