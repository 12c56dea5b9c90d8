import os

# Tests run with DEBUG off, as production does; give them a key so settings load.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
