"""Customer import (issue 13, item 3): updating existing customers with values of
their own (one ``write()`` each) costs about what creating them does."""

from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.vip_customer.wizard.vip_customer_import import VipCustomerImport

from .common import VipCustomerCommon, xlsx_file

HEADERS = ("Name", "Reference", "Email", "Phone", "Street", "City", "Zip")


def _xlsx(rows):
    return xlsx_file(rows, HEADERS)


@tagged("post_install", "-at_install")
class TestVipImportWriteCost(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Partner = cls.env["res.partner"]
        cls.existing = cls.Partner.with_context(tracking_disable=True).create([
            {"name": f"Cost Customer {i}", "ref": f"COST-{i:03d}", "is_company": True,
             "email": f"cost{i}@example.com", "street": f"{i} Old Road", "city": "Beijing"}
            for i in range(80)
        ])
        cls.contact = cls.Partner.create(
            {"name": "Mei Lin", "parent_id": cls.existing[0].id, "type": "contact"}
        )

    def _import(self, first, count):
        """Import new values for ``count`` customers from ``first``; the queries
        of the batch's writes (``_import_batch``)."""
        rows = [
            [f"Cost Customer {i} Renamed", f"COST-{i:03d}", f"cost{i}@example.com",
             f"+86 21 6{i:07d}", f"{i} New Road", f"City {i}", f"{200000 + i}"]
            for i in range(first, first + count)
        ]
        wizard = self.env["vip.customer.import"].with_user(self.vip_manager).create(
            {"file": _xlsx(rows), "file_name": f"cost-{first}.xlsx"}
        )
        wizard.action_check()
        self.assertEqual((wizard.update_count, wizard.error_count), (count, 0))
        queries = []
        original = VipCustomerImport._import_batch

        def counting(wizard, rows, lookups):
            self.env.flush_all()
            start = self.env.cr.sql_log_count
            result = original(wizard, rows, lookups)
            self.env.flush_all()
            queries.append(self.env.cr.sql_log_count - start)
            return result

        wizard.action_import()
        Job = self.env["vip.import.job"].sudo()
        with patch.object(VipCustomerImport, "_import_batch", counting):
            for _call in range(10):
                if not Job.search_count([("state", "in", ("queued", "running"))]):
                    break
                self.env["vip.import.job"].with_user(self.env.ref("base.user_root")) \
                    ._cron_process_jobs()
        self.env.invalidate_all()
        self.assertEqual(Job.search([], order="id desc", limit=1).state, "done")
        return sum(queries)

    def test_distinct_updates_do_not_query_per_row(self):
        """Each customer gets its own values, so its own ``write()``: what that
        write reads of the customer (its contacts, users, invoices, banks: the
        records whose stored fields follow its name) is read for the whole batch
        at once. About 10 queries a row before, under 4 now (Odoo's own per-write
        searches: snailmail letters, the contacts by parent and commercial partner)."""
        queries_20 = self._import(0, 20)
        queries_60 = self._import(20, 60)
        per_row = (queries_60 - queries_20) / 40
        self.assertLess(per_row, 4, f"{queries_20} queries for 20 rows, {queries_60} for 60")
        for i, partner in enumerate(self.existing):
            self.assertEqual(
                (partner.name, partner.phone, partner.street, partner.city, partner.zip),
                (f"Cost Customer {i} Renamed", f"+86216{i:07d}", f"{i} New Road",
                 f"City {i}", f"{200000 + i}"),
            )
        # the dependents read ahead are still recomputed: the contact shows the new name
        self.assertEqual(self.contact.complete_name, "Cost Customer 0 Renamed, Mei Lin")
        self.assertEqual(self.contact.commercial_company_name, "Cost Customer 0 Renamed")
