import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Odoo's default pipeline stages and the funnel stage that replaces each one.
CRM_STAGE_MAPPING = {
    "crm.stage_lead1": "sales_funnel.crm_stage_verification",
    "crm.stage_lead2": "sales_funnel.crm_stage_development",
    "crm.stage_lead3": "sales_funnel.crm_stage_proposal",
    "crm.stage_lead4": "sales_funnel.crm_stage_won",
}


def adopt_default_pipeline(env):
    """Put the existing pipeline into the funnel (once: the post-init hook).

    Opportunities of Odoo's default stages, active or archived, move to the
    matching funnel stage, and the loss reports of the lost ones with them
    (the stage lost at); a default stage left unused is then removed, one
    that something still points at is left as it is. Every open opportunity
    gets its checklist, its stage probability and a first history row, so
    analytics start from a complete picture.
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
        env["crm.lead"]._update_stuck_dates(SQL("l.stage_id = %s", new.id))
        # The stage a lost deal's report says it was lost at follows the deal.
        cr.execute(
            "UPDATE crm_lead_loss_report SET stage_id = %s WHERE stage_id = %s",
            (new.id, old.id),
        )
        env["crm.lead.loss.report"].invalidate_model(["stage_id"])
        relabel_own_records(env, old, new)
        if stage_in_use(env, old):
            _logger.info(
                "sales_funnel: stage %s (%s) is still in use: left as it is",
                old.name,
                crm_xmlid,
            )
            continue
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


# What the addon itself records of a stage, made before this hook (with demo
# data: the weekly self-checks, the lead pool's history): it follows the
# re-labelling as the opportunities do. (The stored sums of the history are
# kept by its UPDATE triggers.)
OWN_STAGE_COLUMNS = {
    "crm_lead_stage_history": ("from_stage_id", "to_stage_id"),
    "crm_stage_gate_override": ("from_stage_id", "to_stage_id"),
    "crm_funnel_selfcheck_change": ("from_stage_id", "to_stage_id"),
    "crm_funnel_selfcheck_deal": ("stage_id",),
}
SELFCHECK_STAGE_SUMS = (
    "count",
    "amount",
    "weighted_amount",
    "count_before",
    "amount_before",
    "weighted_amount_before",
)


def relabel_own_records(env, old, new):
    """Point the addon's own records of ``old`` at ``new``; a self-check's line
    of the old stage is added into its line of the new one."""
    cr = env.cr
    for table, columns in OWN_STAGE_COLUMNS.items():
        for column in columns:
            cr.execute(
                SQL(
                    "UPDATE %s SET %s = %s WHERE %s = %s",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    new.id,
                    SQL.identifier(column),
                    old.id,
                )
            )
    sums = SQL(", ").join(
        SQL(
            "%s = keep.%s + old.%s",
            SQL.identifier(c),
            SQL.identifier(c),
            SQL.identifier(c),
        )
        for c in SELFCHECK_STAGE_SUMS
    )
    cr.execute(
        SQL(
            """
            UPDATE crm_funnel_selfcheck_stage keep SET %(sums)s
              FROM crm_funnel_selfcheck_stage old
             WHERE old.selfcheck_id = keep.selfcheck_id
               AND old.stage_id = %(old)s AND keep.stage_id = %(new)s
            """,
            sums=sums,
            old=old.id,
            new=new.id,
        )
    )
    cr.execute(
        """
        DELETE FROM crm_funnel_selfcheck_stage old
         WHERE old.stage_id = %(old)s
           AND EXISTS (SELECT 1 FROM crm_funnel_selfcheck_stage keep
                        WHERE keep.selfcheck_id = old.selfcheck_id
                          AND keep.stage_id = %(new)s)
        """,
        {"old": old.id, "new": new.id},
    )
    cr.execute(
        """
        UPDATE crm_funnel_selfcheck_stage SET stage_id = %s, sequence = %s
         WHERE stage_id = %s
        """,
        (new.id, new.sequence, old.id),
    )
    env.invalidate_all()


def stage_in_use(env, stage):
    """Whether a stored record still points at ``stage``: an opportunity,
    active or archived, or a record of any other model (a criterion, a history
    row, a model of another addon). Deleting the stage would lose or block it."""
    for model_name in env.registry:
        model = env[model_name]
        if model._abstract or model._transient or not model._auto:
            continue
        for field in model._fields.values():
            if (
                field.type in ("many2one", "many2many")
                and field.comodel_name == "crm.stage"
                and field.store
                and model.sudo()
                .with_context(active_test=False)
                .search_count([(field.name, "in", stage.ids)], limit=1)
            ):
                return True
    return False
