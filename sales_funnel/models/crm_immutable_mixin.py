from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

# Only server code holding this object may create and change immutable records:
# an RPC, import or UI payload carries JSON, never a Python object.
_RECORDER = object()
_RECORDER_KEY = "crm_immutable_recorder"


class CrmImmutableMixin(models.AbstractModel):
    """Records kept as they were recorded: logs, decisions, committed figures.

    The rule, the same for everyone (salesperson, manager, administrator,
    superuser) and every channel (UI, RPC, import, server code):

    - **Create** through ``_create_record(vals_list)``, the addon's own code path
      (it runs as superuser; its callers decide who may cause a record, as the
      override wizard checks the manager group). Plain ``create`` is refused,
      except for records that are born mutable (``_is_mutable()``, e.g. a draft
      forecast), which users create under their access rights.
    - **Change or delete** a record only while ``_is_mutable()`` holds (False by
      default, e.g. ``state == 'draft'`` for forecasts), under the access rights
      and record rules. Afterwards ``write`` is refused, except on the fields of
      ``_immutable_writable_fields``, and ``unlink`` is refused. The addon's own
      code changes such a record through ``_write_record(vals)`` only (e.g. the
      cron evaluating a forecast snapshot).
    - **What goes with its parent**: the rows point to their parent (the
      opportunity, the stage) with ``ondelete='cascade'``; PostgreSQL deletes
      them with it, without the ORM. Whoever may delete an opportunity thus
      deletes its history, overrides and hand-off attempts with it, and
      uninstalling the addon drops them (``unlink`` is allowed at uninstall):
      the rule guards a record, not its parent.
    """

    _name = "crm.immutable.mixin"
    _description = "Immutable Record"

    # Fields that stay writable after the record became immutable.
    _immutable_writable_fields = ()

    def _is_mutable(self):
        """Whether this record may still be changed or deleted by hand."""
        self.ensure_one()
        return False

    @api.model
    def _create_record(self, vals_list):
        """Create records on the addon's own code path (the only way in)."""
        records = self._recorder().create(vals_list)
        return records.with_env(self.env)

    def _write_record(self, vals):
        """Change records on the addon's own code path, mutable or not."""
        return self._recorder().write(vals)

    def _recorder(self):
        return self.sudo().with_context(**{_RECORDER_KEY: _RECORDER})

    def _check_mutable(self, fnames=()):
        if self.env.context.get(_RECORDER_KEY) is _RECORDER:
            return
        if fnames and set(fnames) <= set(self._immutable_writable_fields):
            return
        if not all(record._is_mutable() for record in self):
            raise UserError(
                self.env._(
                    "%(model)s records are kept as they were recorded: they "
                    "cannot be created by hand, changed or deleted.",
                    model=self.env["ir.model"].sudo()._get(self._name).name,
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.context.get(_RECORDER_KEY) is not _RECORDER:
            for vals in vals_list:
                self.new(self._add_missing_default_values(vals))._check_mutable()
        return super().create(vals_list)

    def write(self, vals):
        self._check_mutable(vals)
        return super().write(vals)

    def unlink(self):
        if not self.env.context.get(MODULE_UNINSTALL_FLAG):
            self._check_mutable()
        return super().unlink()
