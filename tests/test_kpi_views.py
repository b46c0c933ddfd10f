"""The views a KPI figure drills down to show real rows only.

Odoo fills an empty view that has ``sample="1"`` with made-up records: a
drill-down to a figure of zero customers (no VIP lost this month) then listed
invented customers and tiers (browser walk). The facts' views carry no sample.
"""

from pathlib import Path

from lxml import etree

VIEWS = Path(__file__).resolve().parent.parent / "vip_customer" / "views" / "vip_kpi_views.xml"


def _fact_archs():
    tree = etree.parse(str(VIEWS))
    for record in tree.iterfind(".//record[@model='ir.ui.view']"):
        model = record.find("field[@name='model']")
        arch = record.find("field[@name='arch']")
        if model is not None and model.text == "vip.kpi.fact" and arch is not None:
            yield record.get("id"), arch[0]


def test_fact_views_found():
    kinds = {root.tag for _id, root in _fact_archs()}
    assert {"list", "pivot", "graph"} <= kinds


def test_fact_views_show_no_sample_data():
    with_sample = [view_id for view_id, root in _fact_archs() if root.get("sample")]
    assert not with_sample, f"sample data on drill-down views: {with_sample}"
