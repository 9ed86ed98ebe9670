"""The barometer's public site: static, bilingual pages built from the published snapshot."""

from observatoire.site.builder import SiteResult, build_site, publish_site

__all__ = ["SiteResult", "build_site", "publish_site"]
