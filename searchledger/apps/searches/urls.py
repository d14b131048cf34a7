"""URLs for searches: records and approvals, policies and cases, probe images."""

from searchledger.apps.searches import urls_admin, urls_probes, urls_records

__all__ = ["urlpatterns"]

app_name = "searches"

urlpatterns = [*urls_records.urlpatterns, *urls_admin.urlpatterns, *urls_probes.urlpatterns]
