from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _load_module_terms(self, modules, langs, overwrite=False, imported_module=False):
        """A language installed (or its terms updated): the built-in key-moment rules,
        created from the code's texts, get their names in it too."""
        result = super()._load_module_terms(
            modules, langs, overwrite=overwrite, imported_module=imported_module
        )
        if "vip_customer" in modules and "vip.moment.rule" in self.env:
            # pylint: disable=no-search-all
            self.env["res.company"].sudo().search([])._vip_translate_builtin_moment_rules(langs)
        return result
