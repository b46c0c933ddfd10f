import base64
import datetime
import io
from unittest.mock import patch

import xlwt
from openpyxl import Workbook, load_workbook

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from odoo.addons.vip_customer.wizard.vip_customer_import import VipCustomerImport

from .common import VipCustomerCommon

HEADERS = (
    "Name",
    "Reference",
    "Email",
    "Phone",
    "Mobile",
    "Tier",
    "Lock Tier",
    "Lock Reason",
    "Account Manager",
    "Interests",
    "Birthday",
)


@tagged("post_install", "-at_install")
class TestVipCustomerImport(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.importer = cls.vip_manager
        cls.Wizard = cls.env["vip.customer.import"].with_user(cls.importer)
        cls.Partner = cls.env["res.partner"]

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    @staticmethod
    def _xlsx(rows, headers=HEADERS):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(headers)
        for row in rows:
            if isinstance(row, dict):
                row = [row.get(header) for header in headers]
            sheet.append(row)
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()

    @staticmethod
    def _xls(rows, headers):
        workbook = xlwt.Workbook()
        sheet = workbook.add_sheet("Customers")
        date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
        for col, header in enumerate(headers):
            sheet.write(0, col, header)
        for index, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, datetime.date):
                    sheet.write(index, col, value, date_style)
                elif value is not None:
                    sheet.write(index, col, value)
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()

    def _wizard(self, content, file_name="customers.xlsx"):
        return self.Wizard.create({"file": base64.b64encode(content), "file_name": file_name})

    def _check(self, rows, headers=HEADERS):
        wizard = self._wizard(self._xlsx(rows, headers))
        wizard.action_check()
        return wizard

    def _import(self, rows, headers=HEADERS):
        wizard = self._check(rows, headers)
        self.assertFalse(wizard.error_count, wizard.line_ids.filtered("is_error").mapped("message"))
        return self._import_and_run(wizard)

    def _run_jobs(self, chunk_size=1000, max_calls=100):
        """The import cron, as Odoo's runner calls it, until no job is left."""
        Job = self.env["vip.import.job"].with_user(self.env.ref("base.user_root"))
        calls = 0
        while Job.search_count([("state", "in", ("queued", "running"))]):
            self.assertLess(calls, max_calls, "the import jobs do not end")
            Job._cron_process_jobs(chunk_size=chunk_size)
            calls += 1
            self.env.invalidate_all()
        return calls

    def _import_and_run(self, wizard, chunk_size=1000):
        """Import: the file is queued, then written by the job's cron."""
        wizard.action_import()
        self.assertEqual(wizard.state, "importing")
        self.assertFalse(wizard.file, "the rows are the job's now")
        self._run_jobs(chunk_size)
        self.assertEqual(wizard.job_id.state, "done", wizard.job_id.error_message)
        self.assertEqual(wizard.state, "done")
        return wizard

    @staticmethod
    def _lines(wizard):
        return {line.row_number: line for line in wizard.line_ids}

    def _find(self, name):
        return self.Partner.search([("name", "=", name)])

    # ------------------------------------------------------------------
    # dry run
    # ------------------------------------------------------------------
    def test_check_is_a_dry_run(self):
        wizard = self._check(
            [
                {"Name": "Jade Garden Ltd", "Email": "hello@jade.example.com"},
                {"Name": "Golden Dragon Renamed", "Email": "GD@Example.com"},
            ]
        )
        self.assertEqual(wizard.state, "checked")
        self.assertEqual(
            (wizard.row_count, wizard.create_count, wizard.update_count, wizard.error_count),
            (2, 1, 1, 0),
        )
        lines = self._lines(wizard)
        self.assertEqual(lines[2].outcome, "create")
        self.assertEqual(lines[3].outcome, "update")
        self.assertEqual(lines[3].partner_id, self.customer)
        self.assertIn("e-mail", lines[3].message)
        # nothing written
        self.assertFalse(self._find("Jade Garden Ltd"))
        self.assertEqual(self.customer.name, "Golden Dragon Trading")

    def test_errors_name_their_row(self):
        rows = [
            {"Name": "Valid Customer", "Reference": "V1"},  # 2
            {"Name": None, "Email": "noname@example.com"},  # 3
            {"Name": "Bad Tier", "Tier": "Z"},  # 4
            {"Name": "Bad Manager", "Account Manager": "nobody-here"},  # 5
            {"Name": "Bad Date", "Birthday": "31/02/2024"},  # 6
            {"Name": "Bad Email", "Email": "not-an-email"},  # 7
            {"Name": "Bad Bool", "Tier": "A", "Lock Tier": "maybe"},  # 8
            {"Name": "Same Ref", "Reference": "V1"},  # 9
            {"Name": "First Mail", "Email": "dup@example.com"},  # 10
            {"Name": "Same Mail", "Email": "DUP@example.com"},  # 11
            {"Name": "First Phone", "Phone": "+86 21 5555 0199"},  # 12
            {"Name": "Same Phone", "Mobile": "862155550199"},  # 13
            {"Name": "Lock Without Tier", "Lock Tier": "yes"},  # 14
            {"Name": "Impossible Date", "Birthday": "2023-02-29"},  # 15
        ]
        wizard = self._check(rows)
        lines = self._lines(wizard)
        self.assertEqual(wizard.row_count, 14)
        self.assertEqual(wizard.error_count, 11)
        expected = {
            3: "name is empty",
            4: "“Z”",
            5: "nobody-here",
            6: "is not a date",
            7: "is not an e-mail address",
            8: "is not yes or no",
            9: "Duplicate of row 2",
            11: "Duplicate of row 10",
            13: "Duplicate of row 12",
            14: "no tier to lock",
            15: "is not a date",
        }
        for row, text in expected.items():
            self.assertEqual(lines[row].outcome, "error", f"row {row}")
            self.assertIn(text, lines[row].message, f"row {row}")
        for row in (2, 10, 12):
            self.assertEqual(lines[row].outcome, "create", f"row {row}")
        self.assertEqual(wizard.line_ids[:1].outcome, "error", "errors are listed first")
        with self.assertRaisesRegex(UserError, "in error"):
            wizard.action_import()
        self.assertFalse(self._find("Valid Customer"))

    def test_nothing_written_when_a_batch_fails(self):
        """Rows are checked again while importing: an error found in a later
        batch rolls back the customers the earlier batches created."""
        rows = [
            {
                "Name": f"Batch Customer {i}",
                "Reference": f"BC{i}",
                "Account Manager": "vip_customer-user",
            }
            for i in range(5)
        ]
        wizard = self._check(rows)
        self.assertFalse(wizard.error_count)
        # the database changes between the check and the import
        self.vip_user.login = "vip_customer-user-renamed"
        rows_before = self.Partner.search_count([])
        with (
            patch.object(VipCustomerImport, "_batch_size", 2),
            self.assertRaisesRegex(UserError, "Row 2: .*vip_customer-user"),
        ):
            wizard.action_import()
        self.assertEqual(self.Partner.search_count([]), rows_before)
        self.assertFalse(self._find("Batch Customer 0"))

    def test_import_refuses_unchecked_file(self):
        wizard = self._wizard(self._xlsx([{"Name": "Never Checked"}]))
        with self.assertRaisesRegex(UserError, "Check the file"):
            wizard.action_import()
        self.assertFalse(self._find("Never Checked"))

    # ------------------------------------------------------------------
    # matching
    # ------------------------------------------------------------------
    def test_match_by_ref_then_email_then_phone(self):
        by_ref, by_email, by_phone, by_mobile, shadow = self.Partner.create(
            [
                {"name": "Ref Co", "ref": "R-100", "email": "ref@example.com", "is_company": True},
                {"name": "Mail Co", "email": "Mail@Example.com", "is_company": True},
                {"name": "Phone Co", "phone": "+86 (21) 6789-0199", "is_company": True},
                {"name": "Mobile Co", "mobile": "139 1111 2222", "is_company": True},
                {"name": "Shadow Co", "phone": "+1 555 0100 999", "is_company": True},
            ]
        )
        # a contact of a company is not a customer of its own: not matched
        self.Partner.create(
            {
                "name": "Contact",
                "parent_id": self.customer.id,
                "email": "contact@golden.example.com",
            }
        )
        other_company = self.env["res.company"].create({"name": "Other VIP Co"})
        self.Partner.create(
            {"name": "Elsewhere", "email": "else@example.com", "company_id": other_company.id}
        )
        count = self.Partner.search_count([])
        self._import(
            [
                # the reference wins over another customer's e-mail, the e-mail over a phone
                {"Name": "Ref Co 2", "Reference": "R-100", "Email": "gd@example.com"},
                {"Name": "Mail Co 2", "Email": "mail@example.com", "Phone": "1 555 0100 999"},
                {"Name": "Phone Co 2", "Phone": "86 21 6789 0199"},
                {"Name": "Mobile Co 2", "Phone": "13911112222"},
                {"Name": "Contact Customer", "Email": "contact@golden.example.com"},
                {"Name": "Elsewhere Here", "Email": "else@example.com"},
            ]
        )
        self.assertEqual(by_ref.name, "Ref Co 2")
        self.assertEqual(by_ref.email, "gd@example.com")
        self.assertEqual(self.customer.name, "Golden Dragon Trading")
        self.assertEqual(by_email.name, "Mail Co 2")
        self.assertEqual(by_email.phone, "1 555 0100 999")
        self.assertEqual(shadow.name, "Shadow Co")
        self.assertEqual(by_phone.name, "Phone Co 2")
        self.assertEqual(by_mobile.name, "Mobile Co 2")
        self.assertEqual(self.Partner.search_count([]), count + 2)
        self.assertEqual(len(self._find("Contact Customer")), 1)
        self.assertEqual(len(self._find("Elsewhere Here")), 1)

    def test_two_rows_for_one_customer(self):
        self.customer.ref = "GD-1"
        wizard = self._check(
            [
                {"Name": "Golden Dragon", "Reference": "GD-1"},
                {"Name": "Golden Dragon Again", "Email": "gd@example.com"},
            ]
        )
        lines = self._lines(wizard)
        self.assertEqual(lines[2].outcome, "update")
        self.assertEqual(lines[3].outcome, "error")
        self.assertIn("Same existing customer as row 2", lines[3].message)

    # ------------------------------------------------------------------
    # tiers, managers, interests
    # ------------------------------------------------------------------
    def test_tier_lock_and_history(self):
        locked_before = self.Partner.create({"name": "Locked Before", "ref": "LB"})
        locked_before.sudo().write(
            {"vip_tier_id": self.tier_c.id, "vip_locked": True, "vip_lock_reason": "Old deal"}
        )
        self._import(
            [
                {
                    "Name": "Locked A",
                    "Reference": "LA",
                    "Tier": "A",
                    "Lock Tier": "yes",
                    "Lock Reason": "Strategic account",
                },
                {"Name": "Rules B", "Reference": "RB", "Tier": "b"},
                {"Name": "Locked Default", "Reference": "LD", "Tier": "C", "Lock Tier": "是"},
                {"Name": "Locked Before", "Reference": "LB", "Tier": "B", "Lock Tier": "no"},
            ]
        )
        locked_a, rules_b, locked_default = (
            self._find("Locked A"),
            self._find("Rules B"),
            self._find("Locked Default"),
        )
        self.assertEqual(locked_a.vip_tier_id, self.tier_a)
        self.assertTrue(locked_a.vip_locked)
        self.assertEqual(locked_a.vip_lock_reason, "Strategic account")
        self.assertEqual(rules_b.vip_tier_id, self.tier_b)
        self.assertFalse(rules_b.vip_locked)
        self.assertEqual(locked_default.vip_lock_reason, "Imported")
        self.assertEqual(locked_before.vip_tier_id, self.tier_b)
        self.assertFalse(locked_before.vip_locked)
        self.assertFalse(locked_before.vip_lock_reason)
        history = self.env["vip.tier.history"].search(
            [("partner_id", "in", (locked_a | rules_b | locked_before).ids)]
        )
        imported = history.filtered(lambda h: h.reason == "import")
        self.assertEqual(len(imported), 3)
        self.assertEqual(imported.user_id, self.importer)
        self.assertEqual(
            imported.filtered(lambda h: h.partner_id == locked_before).direction, "upgrade"
        )
        self.assertEqual(imported.filtered(lambda h: h.partner_id == locked_a).direction, "new")

    def test_account_manager_by_login(self):
        self._import([{"Name": "Managed Co", "Account Manager": " VIP_Customer-User "}])
        self.assertEqual(self._find("Managed Co").vip_account_manager_id, self.vip_user)

    def test_interests_created_once_and_reused(self):
        falconry = self.env["vip.interest.tag"].create({"name": "Falconry"})
        self._import(
            [
                {
                    "Name": "Tagged One",
                    "Reference": "T1",
                    "Interests": "falconry、Tea Ceremony; Wine",
                },
                {"Name": "Tagged Two", "Reference": "T2", "Interests": "tea ceremony，Falconry"},
            ]
        )
        Tag = self.env["vip.interest.tag"]
        tags = Tag.search([("name", "in", ["Tea Ceremony", "Wine", "Falconry"])])
        self.assertEqual(len(tags), 3)
        self.assertEqual(Tag.search_count([("name", "ilike", "tea ceremony")]), 1)
        one, two = self._find("Tagged One"), self._find("Tagged Two")
        self.assertEqual(one.vip_interest_tag_ids, tags)
        self.assertEqual(
            sorted(two.vip_interest_tag_ids.mapped("name")), ["Falconry", "Tea Ceremony"]
        )
        self.assertIn(falconry, two.vip_interest_tag_ids)
        # on update, the file's interests are added to the customer's own
        self._import([{"Name": "Tagged Two", "Reference": "T2", "Interests": "Wine"}])
        self.assertEqual(two.vip_interest_tag_ids, tags)

    def test_profile_columns_and_chinese_headers(self):
        headers = [
            "客户名称",
            "客户编号",
            "邮箱",
            "手机",
            "城市",
            "国家",
            "公司",
            "等级",
            "锁定等级",
            "锁定原因",
            "客户经理",
            "偏好渠道",
            "联系时间",
            "兴趣",
            "礼品偏好",
            "饮食偏好",
            "其他偏好",
            "特殊需求",
            "备注",
            "生日",
            "纪念日",
            "不发送关怀",
        ]
        self._import(
            [
                [
                    "上海翡翠贸易",
                    "CN-001",
                    "jade@example.cn",
                    13800138000,
                    "上海",
                    "中国",
                    "是",
                    "A",
                    "是",
                    "战略客户",
                    "vip_customer-user",
                    "微信",
                    "下午",
                    "高尔夫、茶",
                    "普洱茶",
                    "素食",
                    "喜欢安静",
                    "轮椅通道",
                    "机密备注",
                    "1980/5/1",
                    datetime.datetime(2015, 3, 1),
                    "否",
                ]
            ],
            headers,
        )
        partner = self._find("上海翡翠贸易")
        self.assertRecordValues(
            partner,
            [
                {
                    "ref": "CN-001",
                    "email": "jade@example.cn",
                    "mobile": "+8613800138000",  # E.164 against the row's country
                    "city": "上海",
                    "country_id": self.env.ref("base.cn").id,
                    "is_company": True,
                    "vip_tier_id": self.tier_a.id,
                    "vip_locked": True,
                    "vip_lock_reason": "战略客户",
                    "vip_account_manager_id": self.vip_user.id,
                    "vip_preferred_channel": "wechat",
                    "vip_preferred_contact_time": "afternoon",
                    "vip_gift_preference": "普洱茶",
                    "vip_diet_preference": "素食",
                    "vip_other_preference": "喜欢安静",
                    "vip_special_needs": "轮椅通道",
                    "vip_sensitive_note": "机密备注",
                    "vip_birthday": datetime.date(1980, 5, 1),
                    "vip_anniversary_date": datetime.date(2015, 3, 1),
                    "vip_care_opt_out": False,
                }
            ],
        )
        self.assertEqual(sorted(partner.vip_interest_tag_ids.mapped("name")), ["茶", "高尔夫"])

    # ------------------------------------------------------------------
    # normalised phones and e-mails, plausible dates
    # ------------------------------------------------------------------
    def test_phones_matched_and_stored_in_e164(self):
        """+86 138 0013 8000 and 13800138000 are one customer in China (the
        company's country), in the database and inside one file."""
        self.company.country_id = self.env.ref("base.cn")
        existing = self.Partner.create(
            {"name": "Mobile Co", "mobile": "+86 138 0013 8000", "is_company": True}
        )
        wizard = self._check([{"Name": "Mobile Co 2", "Phone": "13800138000"}])
        line = self._lines(wizard)[2]
        self.assertEqual((line.outcome, line.partner_id), ("update", existing))
        self.assertIn("phone", line.message)
        wizard = self._check(
            [
                {"Name": "One", "Phone": "+86 138 0013 8001"},
                {"Name": "Two", "Mobile": "138-0013-8001"},
                {"Name": "Three", "Mobile": "０１３８００１３８００１"},  # full width, trunk 0
            ]
        )
        lines = self._lines(wizard)
        self.assertEqual(lines[2].outcome, "create")
        self.assertIn("Duplicate of row 2", lines[3].message)
        self.assertIn("Duplicate of row 2", lines[4].message)
        self._import([{"Name": "New Mobile", "Mobile": "139 1111 2222", "Phone": "021 5555 0101"}])
        new = self._find("New Mobile")
        self.assertEqual((new.mobile, new.phone), ("+8613911112222", "+862155550101"))
        # a number of another country keeps its own code
        self._import([{"Name": "Paris Office", "Phone": "+33 1 42 68 53 00"}])
        self.assertEqual(self._find("Paris Office").phone, "+33142685300")
        # the customer's own country wins over the company's
        wizard = self._check([{"Name": "French Again", "Phone": "01 42 68 53 00"}],
                             headers=HEADERS + ("Country",))
        self.assertEqual(self._lines(wizard)[2].outcome, "create")
        rows = [{"Name": "French Again", "Phone": "01 42 68 53 00", "Country": "FR"}]
        wizard = self._check(rows, headers=HEADERS + ("Country",))
        self.assertEqual(self._lines(wizard)[2].partner_id, self._find("Paris Office"))

    def test_phones_without_the_phonenumbers_library(self):
        """Without phonenumbers the import still matches national and
        international forms of a number against the company's country."""
        self.company.country_id = self.env.ref("base.cn")
        existing = self.Partner.create({"name": "Old Co", "phone": "+86 138 0013 8000"})
        with patch(
            "odoo.addons.phone_validation.tools.phone_validation.phone_format",
            lambda number, *args, **kwargs: number,
        ):
            wizard = self._check(
                [
                    {"Name": "Old Co 2", "Mobile": "0138 0013 8000"},
                    {"Name": "New", "Mobile": "+1 212 555 0100"},
                ]
            )
            lines = self._lines(wizard)
            self.assertEqual(lines[2].partner_id, existing)
            self.assertEqual(lines[3].outcome, "create")

    def test_full_width_email_stored_normalised(self):
        self._import([{"Name": "Wide Mail", "Email": "ｗｉｄｅ＠ｅｘａｍｐｌｅ．ｃｏｍ"}])
        partner = self._find("Wide Mail")
        self.assertEqual(partner.email, "wide@example.com")
        self.assertEqual(partner.email_normalized, "wide@example.com")
        # and found again on the next import, whatever the width or case
        wizard = self._check([{"Name": "Wide Mail 2", "Email": "ＷＩＤＥ＠example.com"}])
        self.assertEqual(self._lines(wizard)[2].partner_id, partner)

    def test_impossible_birthdays_are_row_errors(self):
        next_year = self.today.year + 1
        wizard = self._check(
            [
                {"Name": "Fine", "Birthday": "1975-08-18"},
                {"Name": "Unborn", "Birthday": f"{next_year}-01-01"},
                {"Name": "Ancient", "Birthday": "1850-01-01"},
            ]
        )
        lines = self._lines(wizard)
        self.assertEqual(lines[2].outcome, "create")
        for row in (3, 4):
            self.assertEqual(lines[row].outcome, "error")
            self.assertIn("Birthday", lines[row].message)
            self.assertIn("cannot be a birthday", lines[row].message)
        self.assertEqual(wizard.error_count, 2)

    def test_xls_file(self):
        headers = [
            "Name",
            "Reference",
            "Phone",
            "Birthday",
            "Anniversary",
            "Is Company",
            "Preferred Channel",
            "Contact Time",
            "No Care Messages",
            "Country",
        ]
        content = self._xls(
            [
                [
                    "Legacy Co",
                    "L-1",
                    13912345678,
                    datetime.date(1979, 12, 24),
                    "01.05.2024",
                    1,
                    "On-site visit",
                    "Any time",
                    True,
                    "cn",
                ],
            ],
            headers,
        )
        wizard = self._wizard(content, "legacy.XLS")
        wizard.action_check()
        self.assertEqual((wizard.row_count, wizard.create_count, wizard.error_count), (1, 1, 0))
        self._import_and_run(wizard)
        self.assertRecordValues(
            self._find("Legacy Co"),
            [
                {
                    "ref": "L-1",
                    "phone": "+8613912345678",  # E.164 against the row's country
                    "vip_birthday": datetime.date(1979, 12, 24),
                    "vip_anniversary_date": datetime.date(2024, 5, 1),
                    "is_company": True,
                    "vip_preferred_channel": "visit",
                    "vip_preferred_contact_time": "any",
                    "vip_care_opt_out": True,
                    "country_id": self.env.ref("base.cn").id,
                }
            ],
        )

    # ------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------
    def test_wrong_file_type(self):
        wizard = self._wizard(b"name,email\nA,a@example.com\n", "customers.csv")
        with self.assertRaisesRegex(UserError, "customers.csv"):
            wizard.action_check()
        wizard = self._wizard(b"this is no spreadsheet", "broken.xlsx")
        with self.assertRaisesRegex(UserError, "broken.xlsx cannot be read"):
            wizard.action_check()
        wizard = self._wizard(b"this is no spreadsheet either", "broken.xls")
        with self.assertRaisesRegex(UserError, "broken.xls cannot be read"):
            wizard.action_check()

    def test_bad_headers(self):
        with self.assertRaisesRegex(UserError, "Unknown columns: Shoe Size, 鞋码"):
            self._check([["A", 42, 43]], ["Name", "Shoe Size", "鞋码"])
        with self.assertRaisesRegex(UserError, "Name column"):
            self._check([["a@example.com"]], ["Email"])
        with self.assertRaisesRegex(UserError, "no customer rows"):
            self._check([], ["  NAME "])

    def test_new_file_must_be_checked_again(self):
        wizard = self._check([{"Name": "First File"}])
        wizard.write({"file": base64.b64encode(self._xlsx([{"Name": "Second File"}]))})
        self.assertEqual(wizard.state, "draft")
        self.assertFalse(wizard.line_ids)
        with self.assertRaisesRegex(UserError, "Check the file"):
            wizard.action_import()
        # in the form, a new upload shows the reset at once (before any save)
        wizard = self._check([{"Name": "First File"}, {"Name": "Also First"}])
        self.assertEqual((wizard.state, wizard.row_count, wizard.create_count), ("checked", 2, 2))
        with Form(wizard, view="vip_customer.vip_customer_import_view_form") as form:
            form.file = base64.b64encode(self._xlsx([{"Name": "Third File"}]))
            self.assertEqual(form.state, "draft")
            self.assertEqual((form.row_count, form.create_count, form.error_count), (0, 0, 0))
            self.assertEqual(len(form.line_ids), 0)
        self.assertEqual(wizard.state, "draft")
        self.assertFalse(wizard.line_ids)

    def test_template_is_importable(self):
        wizard = self.Wizard.create({})
        action = wizard.action_download_template()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(f"/{wizard.id}/template_file/", action["url"])
        content = base64.b64decode(wizard.template_file)
        sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
        headers = next(sheet.iter_rows(values_only=True))
        self.assertEqual(headers[:3], ("Name", "Reference", "Email"))
        wizard.write({"file": base64.b64encode(content), "file_name": "template.xlsx"})
        wizard.action_check()
        self.assertEqual(
            (wizard.row_count, wizard.error_count), (1, 0), wizard.line_ids.mapped("message")
        )

    def test_only_vip_managers_import(self):
        with self.assertRaises(AccessError):
            self.env["vip.customer.import"].with_user(self.vip_user).create({})

    def test_reimport_costs_about_what_a_create_costs(self):
        """Re-importing existing customers writes each set of identical changes
        once: the writes and queries do not grow with the number of rows (they
        used to: one write() per row)."""
        headers = ("Name", "Reference", "Email", "City", "Tier")
        Partner = self.Partner.with_context(tracking_disable=True)
        existing = Partner.create(
            [
                {"name": f"Existing {i}", "ref": f"EX-{i:03d}", "email": f"ex{i}@example.com"}
                for i in range(200)
            ]
        )
        partner_class = type(self.env["res.partner"])
        original_write = partner_class.write

        def reimport(first, count):
            rows = [
                [f"Existing {i}", f"EX-{i:03d}", f"ex{i}@example.com", "Hangzhou", "B"]
                for i in range(first, first + count)
            ]
            wizard = self._check(rows, headers)
            self.assertEqual(wizard.update_count, count)
            writes = []

            def spy(records, vals):
                writes.append(sorted(vals))
                return original_write(records, vals)

            self.env.flush_all()
            queries = self.env.cr.sql_log_count
            with patch.object(partner_class, "write", spy):
                self._import_and_run(wizard)
                self.env.flush_all()
            return writes, self.env.cr.sql_log_count - queries

        writes_50, queries_50 = reimport(0, 50)
        writes_100, queries_100 = reimport(50, 100)
        self.assertEqual(writes_50, [["city"], ["vip_tier_id"]])
        self.assertEqual(writes_100, writes_50)
        self.assertLess(queries_100 - queries_50, 25, "not one query per row")
        self.assertEqual(set(existing[:150].mapped("city")), {"Hangzhou"})
        self.assertEqual(set(existing[:150].mapped("vip_tier_id")), {self.tier_b})
        self.assertEqual(existing[0].name, "Existing 0", "unchanged values are not rewritten")
        # a file repeating what the customers hold writes nothing
        writes, _queries = reimport(0, 100)
        self.assertEqual(writes, [])

    def test_large_file_in_batches(self):
        rows = [
            [
                f"Bulk Customer {i}",
                f"BULK-{i:05d}",
                f"bulk{i}@example.com",
                f"+86 21 6{i:07d}",
                None,
                "C" if i % 2 else None,
                None,
                None,
                None,
                "Bulk" if i % 100 == 0 else None,
                None,
            ]
            for i in range(2000)
        ]
        # one existing customer among them: updated, not duplicated
        existing = self.Partner.create({"name": "Bulk Old", "ref": "BULK-01999"})
        calls = []
        original = VipCustomerImport._import_batch

        def spy(wizard, batch, lookups):
            calls.append(len(batch))
            return original(wizard, batch, lookups)

        # checked in the request (the streaming batches), not by a job
        self.env["ir.config_parameter"].sudo().set_param(
            "vip_customer.import_background_rows", "2000"
        )
        wizard = self._check(rows)
        self.assertEqual(
            (wizard.row_count, wizard.create_count, wizard.update_count, wizard.error_count),
            (2000, 1999, 1, 0),
        )
        with patch.object(VipCustomerImport, "_import_batch", spy):
            self._import_and_run(wizard)
        self.assertEqual(calls, [1000, 1000], "one batch per chunk, one chunk per cron call")
        self.assertEqual(self.Partner.search_count([("ref", "=like", "BULK-%")]), 2000)
        self.assertEqual(existing.name, "Bulk Customer 1999")
        self.assertEqual(existing.vip_tier_id, self.tier_c)
        self.assertEqual(
            self.Partner.search_count(
                [("ref", "=like", "BULK-%"), ("vip_tier_id", "=", self.tier_c.id)]
            ),
            1000,
        )
        self.assertEqual(len(wizard.line_ids), 2000)
        self.assertEqual(len(wizard.line_ids.partner_id), 2000)
        action = wizard.action_open_partners()
        self.assertEqual(self.Partner.search_count(action["domain"]), 2000)

    def test_wizard_keeps_its_title(self):
        """Check reopens the dialog on its next step under the wizard's title, in
        the reader's language (it said "Odoo": browser walk)."""
        wizard = self._wizard(self._xlsx([["Lotus Trading"]], ["Name"]))
        self.assertEqual(wizard.action_check()["name"], "Import VIP Customers")
        self.env["res.lang"]._activate_lang("zh_CN")
        model = self.env["ir.model"]._get("vip.customer.import")
        model.with_context(lang="zh_CN").name = "导入 VIP 客户"
        self.assertEqual(
            wizard.with_context(lang="zh_CN").action_refresh()["name"], "导入 VIP 客户"
        )
