"""`t("message.key", locale, **params)` for the handlers: the catalogue itself is `incident.i18n`,
shared with the documents the domain writes, so there is one set of files and one check."""

from incident.i18n import MESSAGES_DIR, CatalogError, catalog, t

__all__ = ["MESSAGES_DIR", "CatalogError", "catalog", "t"]
