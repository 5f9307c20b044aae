"""Criteria ask for their evidence (issue 10).

The shipped criteria and stages are ``noupdate``: a database installed with
18.0.1.0.0 does not get the new wiring from the data files on upgrade. Here
the shipped criteria get the evidence of data/crm_stage_criterion_evidence_data.xml
(read from that file, the one definition), and the stage texts that were left
as shipped point at the documents. Ticks already made stay ticked: they have no
evidence linked, and only a tick whose linked evidence goes is unticked.
"""

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools.misc import file_path

STAGE_TEXTS = {
    "crm_stage_proposal": (
        "Approved proposal with ROI analysis and preliminary after-sales plan.",
        "Approved proposal with ROI analysis and preliminary after-sales plan; "
        "trial report 试灯报告 accepted by the customer.",
        "获批的提案方案、投资回报分析及初步售后服务计划；客户已签收试灯报告。",
    ),
    "crm_stage_closing": (
        "Stamped contract signed by the customer.",
        "Stamped contract signed by the customer, attached to the opportunity.",
        "已签订客户盖章的正式合同，并附在商机上。",
    ),
}


def _shipped_evidence():
    """{criterion xml id: values} from the data file."""
    path = file_path("sales_funnel/data/crm_stage_criterion_evidence_data.xml")
    wiring = {}
    for record in etree.parse(path).iterfind("//record"):
        values = {}
        for field in record.iterfind("field"):
            if field.get("eval") is not None:
                values[field.get("name")] = field.get("eval") == "True"
            else:
                values[field.get("name")] = field.text
        wiring[record.get("id")] = values
    return wiring


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    chinese = env["res.lang"]._lang_get("zh_CN")
    for xml_id, values in _shipped_evidence().items():
        criterion = env.ref(f"sales_funnel.{xml_id}", raise_if_not_found=False)
        if criterion and criterion.evidence_type == "none":
            criterion.write(values)
    for xml_id, (old, new, new_zh) in STAGE_TEXTS.items():
        stage = env.ref(f"sales_funnel.{xml_id}", raise_if_not_found=False)
        if not stage:
            continue
        for fname in ("verification_output", "requirements"):
            if stage.with_context(lang="en_US")[fname] != old:
                continue  # the company's own text stays
            stage.with_context(lang="en_US")[fname] = new
            if stage._fields[fname].translate and chinese:
                stage.update_field_translations(fname, {"zh_CN": new_zh})
