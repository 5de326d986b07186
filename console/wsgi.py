import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django_application = get_wsgi_application()

from awsapi.wsgi import with_query_api  # noqa: E402 - imports models, so only after Django is set up

application = with_query_api(django_application)  # /aws is answered before Django's request handling
