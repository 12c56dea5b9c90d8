"""ASGI entry point: Django views over HTTP, Channels consumers over WebSocket.

Each WebSocket route carries its own checks (consumers/routing.py): /ws/live/ needs an Origin
from ALLOWED_HOSTS (against cross-site WebSocket hijacking) and a Django session; /ws/events/
needs a one-time ticket and no session, and refuses a foreign Origin when one is sent.
"""

import os

from django.core.asgi import get_asgi_application

from config import twisted_writes

# Under Daphne (Twisted), a frame is written to its socket at once (config/twisted_writes.py).
twisted_writes.install()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from consumers.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
