"""Building blocks of the REST API (/api/v1/): authentication, permissions, pagination, errors,
ETag/If-Match, Idempotency-Key, throttles and WebSocket tickets. Each app's ``api.py`` holds its
serializers and viewsets, which call the app's services like the web pages do."""
