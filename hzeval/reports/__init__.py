"""Graded reports (DESIGN §7): data access over a published run (:mod:`.data`), HTML helpers
for the notebooks (:mod:`.html`), papermill rendering (:mod:`.render`), the XLSX workbook
(:mod:`.workbook`) and PDF printing through headless Chromium (:mod:`.pdf`)."""
