import logging

_logger = logging.getLogger(__name__)

# Odoo's default pipeline stages and the funnel stage that replaces each one.
CRM_STAGE_MAPPING = {
    "crm.stage_lead1": "sales_funnel.crm_stage_verification",
    "crm.stage_lead2": "sales_funnel.crm_stage_development",
    "crm.stage_lead3": "sales_funnel.crm_stage_proposal",
    "crm.stage_lead4": "sales_funnel.crm_stage_won",
}


def adopt_default_pipeline(env):
    """Put the existing pipeline into the funnel (once, at installation).

    Opportunities of Odoo's default stages move to the matching funnel stage
    (the default stages are then removed; crm never recreates them), every open
    opportunity gets its checklist, its stage probability and a first history
    row, so analytics start from a complete picture.
    """
    cr = env.cr
    for crm_xmlid, funnel_xmlid in CRM_STAGE_MAPPING.items():
        old = env.ref(crm_xmlid, raise_if_not_found=False)
        new = env.ref(funnel_xmlid)
        if not old or old == new:
            continue
        # Plain SQL: this is a re-labelling of stages, not a funnel move to gate.
        cr.execute(
            "UPDATE crm_lead SET stage_id = %s WHERE stage_id = %s", (new.id, old.id)
        )
        env["crm.lead"].invalidate_model(["stage_id"])
        old.unlink()
    # Probabilities and weighted amounts follow the stage (one UPDATE), before
    # the first history rows record them.
    synced = env["crm.lead"]._sync_stage_probabilities()
    leads = env["crm.lead"].with_context(active_test=False).search([])
    leads.filtered("active")._ensure_checklist()
    history = env["crm.lead.stage.history"].sudo()
    logged = {lead.id for [lead] in history._read_group([], ["lead_id"])}
    unlogged = leads.filtered(
        lambda lead: lead.active and lead.stage_id and lead.id not in logged
    )
    rows = unlogged._log_stage_events(
        [(lead, "create", env["crm.stage"], None) for lead in unlogged]
    )
    if rows:
        # Date the opening row when the opportunity entered its current stage.
        cr.execute(
            """
            UPDATE crm_lead_stage_history history
               SET date = COALESCE(lead.date_last_stage_update, lead.create_date)
              FROM crm_lead lead
             WHERE lead.id = history.lead_id AND history.id IN %s
            """,
            (tuple(rows.ids),),
        )
        rows.invalidate_recordset(["date"])
    _logger.info(
        "sales_funnel: %s opportunities put into the funnel, %s probabilities set "
        "to the stage's win rate",
        len(unlogged),
        synced,
    )
