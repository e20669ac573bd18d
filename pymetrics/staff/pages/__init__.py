"""The analytics pages of the staff interface, one module per page.

Each view reads through ``pymetrics.analytics`` selectors (cached, organisation
scoped), builds its charts with :mod:`pymetrics.staff.charts` and renders a
template under ``staff/``.
"""
