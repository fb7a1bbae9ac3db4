"""The console's two languages: its messages in zh-CN and en, and Babel's formats for each.

Templates write English text as ``_("...")``; :data:`ZH_CN` gives each its Chinese. A test
reads every template and fails on a message that has no Chinese, so a page never shows a
borrower or a collector half a language. Amounts, dates and numbers are formatted by Babel
from the CLDR data for the locale (``¥1,234.50`` / ``CN¥1,234.50``, ``2026年3月1日`` /
``Mar 1, 2026``); amounts arrive as exact decimal strings and are never floats.
"""

# Chinese text is written with full-width Chinese punctuation, which RUF001 takes for look-alikes.
# ruff: noqa: RUF001

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from tenor.core.delinquency import LoanClass

LOCALES: Final = ("zh-CN", "en")
DEFAULT_LOCALE: Final = "zh-CN"

#: Chinese for every English message of the templates and of the routes' flash messages.
ZH_CN: Final[dict[str, str]] = {
    # chrome
    "Tenor": "Tenor 贷后管理",
    "Skip to content": "跳到正文",
    "Main navigation": "主导航",
    "Language": "语言",
    "Switch language": "切换语言",
    "Sign out": "退出登录",
    "Signed in as %(name)s (%(role)s)": "已登录：%(name)s（%(role)s）",
    "Business date": "业务日期",
    "Staff console": "员工控制台",
    "My loans": "我的贷款",
    "Contact preferences": "联系偏好",
    # roles
    "role:admin": "管理员",
    "role:risk": "风险官",
    "role:collector": "催收员",
    "role:agency": "催收机构",
    "role:auditor": "审计员",
    "role:borrower": "借款人",
    # staff sign-in
    "Sign in": "登录",
    "Sign in to the staff console": "登录员工控制台",
    "With a username and password": "使用用户名和密码",
    "With an API key": "使用 API 密钥",
    "Username": "用户名",
    "Password": "密码",
    "API key": "API 密钥",
    "Are you a borrower?": "您是借款人？",
    "Sign in to see your loans": "登录查看您的贷款",
    "the username or the password is wrong": "用户名或密码错误",
    "too many wrong passwords: this user is locked for a while": (
        "密码错误次数过多，该用户已暂时锁定"
    ),
    "the API key is unknown, malformed or revoked": "API 密钥无效、格式错误或已被撤销",
    "a borrower signs in on the borrower page": "借款人请在借款人页面登录",
    "You have signed out.": "您已退出登录。",
    "Your session has ended; please sign in again.": "会话已结束，请重新登录。",
    # pages
    "Portfolio": "资产组合",
    "Loans": "贷款",
    "Borrowers": "借款人",
    "Open loans by bucket": "未结清贷款（按逾期分档）",
    "Open loans by five-level class": "未结清贷款（按五级分类）",
    "By product": "按产品",
    "Past-due principal by bucket (M1 and beyond), %(currency)s": (
        "逾期贷款未偿本金（M1 及以上分档，%(currency)s）"
    ),
    "Principal below Normal by class, %(currency)s": (
        "非正常类贷款未偿本金（按五级分类，%(currency)s）"
    ),
    "Share over 30 days past due by product": "各产品逾期 30 天以上占比",
    "Download the data (CSV)": "下载数据（CSV）",
    "Chart data": "图表数据",
    "No open loans yet.": "暂无未结清贷款。",
    "Bucket": "逾期分档",
    "Class": "五级分类",
    "Product": "产品",
    "Number of loans": "贷款笔数",
    "Outstanding principal": "未偿本金",
    "Arrears": "逾期金额",
    "Share of principal": "本金占比",
    "Over 30 days past due": "逾期 30 天以上",
    "Currency": "币种",
    "Open loans": "未结清贷款",
    "Total outstanding principal": "未偿本金合计",
    "Loans past due": "逾期贷款",
    # loan list
    "Filter loans": "筛选贷款",
    "Status": "状态",
    "Any": "全部",
    "Minimum days past due": "最少逾期天数",
    "Filter": "筛选",
    "Loan": "贷款",
    "Borrower": "借款人",
    "Principal": "本金",
    "Days past due": "逾期天数",
    "Next due date": "下一还款日",
    "%(count)s loans": "共 %(count)s 笔贷款",
    "Previous page": "上一页",
    "Next page": "下一页",
    "No loan matches.": "没有符合条件的贷款。",
    # loan page
    "Loan %(id)s": "贷款 %(id)s",
    "Terms": "贷款条件",
    "Annual rate": "年利率",
    "Term": "期数",
    "Start date": "起始日期",
    "Method": "还款方式",
    "Balances": "余额",
    "Disbursed": "已放款",
    "Repaid": "已还款",
    "Outstanding interest": "未偿利息",
    "Outstanding fees": "未偿费用",
    "Outstanding penalties": "未偿罚息",
    "Credit balance": "溢缴款",
    "Written off": "已核销",
    "Recovered": "已追回",
    "IFRS 9 stage": "IFRS 9 阶段",
    "Delinquency": "逾期与分类",
    "Schedule": "还款计划",
    "No.": "期次",
    "Due date": "到期日",
    "Interest": "利息",
    "Fee": "费用",
    "Penalty": "罚息",
    "Total": "合计",
    "Paid": "已还",
    "Unpaid": "未还",
    "Settled on": "结清日",
    "Journal": "流水",
    "booked by %(actor)s": "记账人 %(actor)s",
    "reversed": "已冲正",
    "No events yet.": "暂无事件。",
    "Contacts": "联系人",
    "Not disbursed yet.": "尚未放款。",
    "installment %(number)s": "第 %(number)s 期",
    # borrower pages
    "Borrower %(id)s": "借款人 %(id)s",
    "Name": "姓名",
    "Name contains": "姓名包含",
    "Search": "搜索",
    "Kind": "类型",
    "kind:individual": "个人",
    "kind:enterprise": "企业",
    "National ID": "证件号码",
    "Phones": "电话",
    "Email": "电子邮箱",
    "Address": "地址",
    "Time zone": "时区",
    "Preferred channels": "首选渠道",
    "Opted out of": "已退订",
    "Industry": "行业",
    "Relation": "关系",
    "Phone": "电话",
    "None": "无",
    "%(count)s borrowers": "共 %(count)s 位借款人",
    "No borrower matches.": "没有符合条件的借款人。",
    # self-service
    "Sign in with a one-time code": "使用一次性验证码登录",
    "Enter the mobile number you gave us. We will send a six-digit code to it.": (
        "请输入您留给我们的手机号码，我们将向其发送六位验证码。"
    ),
    "Mobile number": "手机号码",
    "Send me a code": "发送验证码",
    "If this number is ours, a code is on its way. It is valid for 10 minutes.": (
        "如果该号码已登记，验证码正在发送中，10 分钟内有效。"
    ),
    "Code": "验证码",
    "Six digits": "六位数字",
    "the code is wrong or has expired; ask for a new one": "验证码错误或已过期，请重新获取",
    "enter a mobile number of 6 to 20 digits": "请输入 6 至 20 位数字的手机号码",
    "Ask for a new code": "重新获取验证码",
    "Staff sign in here": "员工请在此登录",
    "Next payment": "下一期还款",
    "%(amount)s due on %(date)s": "%(date)s 应还 %(amount)s",
    "including %(amount)s overdue": "其中逾期 %(amount)s",
    "Nothing is due.": "当前无应还款项。",
    "Paid off": "已结清",
    "See the schedule and payments": "查看还款计划和还款记录",
    "Payment history": "还款记录",
    "Receipt": "回执",
    "Receipt number": "回执编号",
    "Date": "日期",
    "Amount": "金额",
    "Channel": "渠道",
    "Reference": "参考号",
    "No payments yet.": "暂无还款记录。",
    "Payment receipt": "还款回执",
    "Back to the loan": "返回贷款",
    "This payment was reversed.": "该笔还款已冲正。",
    "You have no loans with us.": "您在我们这里没有贷款。",
    "How we may contact you": "我们如何联系您",
    "Channels you prefer": "您偏好的渠道",
    "Channels you do not want": "您不希望使用的渠道",
    "Language of our messages": "消息语言",
    "Save": "保存",
    "Saved.": "已保存。",
    "the language of messages is zh-CN or en": "消息语言须为中文或英文",
    "a channel cannot be both preferred and refused": "同一渠道不能既是首选又被退订",
    "channel:sms": "短信",
    "channel:push": "推送通知",
    "channel:email": "电子邮件",
    "channel:voice": "语音电话",
    "channel:letter": "信函",
    "Your sign-in code for Tenor is %(code)s. It expires in 10 minutes.": (
        "您的 Tenor 登录验证码为 %(code)s，10 分钟内有效。"
    ),
    # statuses, events, buckets
    "status:pending": "待审批",
    "status:approved": "已审批",
    "status:rejected": "已拒绝",
    "status:active": "正常还款中",
    "status:overpaid": "溢缴",
    "status:closed": "已结清",
    "status:written-off": "已核销",
    "event:disbursed": "放款",
    "event:repayment-received": "还款",
    "event:charge-applied": "收费",
    "event:waived": "减免",
    "event:reversed": "冲正",
    "event:written-off": "核销",
    "event:recovered": "核销后追回",
    "charge:late-fee": "滞纳金",
    "charge:penalty-interest": "罚息",
    "charge:fee": "费用",
    "component:principal": "本金",
    "component:interest": "利息",
    "component:fee": "费用",
    "component:penalty": "罚息",
    "current": "未逾期",
    "method:annuity": "等额本息",
    "method:equal-principal": "等额本金",
    "method:interest-only": "先息后本",
    "method:bullet": "到期一次还本付息",
    "method:stepped": "阶梯还款",
    "method:milestone": "按工程节点还本",
    # errors
    "Not found": "未找到",
    "This page does not exist, or it is not yours to see.": "该页面不存在，或您无权查看。",
    "Bad request": "请求有误",
    "The form has expired; reload the page and try again.": "表单已过期，请刷新页面后重试。",
    "Forbidden": "禁止访问",
    "Your role may not see this page.": "您的角色无权查看此页面。",
    "Back": "返回",
    "The form holds a value Tenor cannot take.": "表单中有无法接受的值。",
}


def translate(locale: str, message: str, **values: Any) -> str:
    """``message`` in ``locale``, with ``%(name)s`` placeholders filled from ``values``."""
    text = ZH_CN.get(message, message) if locale == "zh-CN" else message
    if locale == "en" and ":" in message and " " not in message:
        # Keys of domain labels ("status:active") read as their value in English.
        text = _english_label(message)
    return text % values if values else text


_ENGLISH_LABELS: Final = {
    "role:risk": "risk officer",
    "event:repayment-received": "repayment",
    "event:charge-applied": "charge",
    "event:recovered": "recovery after write-off",
    "status:active": "active",
    "channel:sms": "SMS",
    "channel:push": "push notification",
    "channel:email": "email",
    "channel:voice": "voice call",
    "channel:letter": "letter",
}


def _english_label(key: str) -> str:
    return _ENGLISH_LABELS.get(key, key.split(":", 1)[1].replace("-", " "))


def negotiate(accept_language: str | None) -> str:
    """The console locale a browser's Accept-Language asks for first; zh-CN by default."""
    if not accept_language:
        return DEFAULT_LOCALE
    wanted = [
        part.split(";")[0].strip().replace("-", "_")
        for part in accept_language.split(",")
        if part.strip()
    ]
    found = Locale.negotiate(wanted, ["zh_CN", "en"], sep="_")
    return "en" if str(found) == "en" else DEFAULT_LOCALE


@dataclass(frozen=True, slots=True)
class Formats:
    """Babel's formats for one locale, as the templates call them."""

    locale: str

    @property
    def babel(self) -> str:
        """The locale as Babel names it (``zh_CN``)."""
        return self.locale.replace("-", "_")

    def money(self, amount: str | Decimal | None, currency: str) -> str:
        """An exact decimal amount in major units, e.g. ``¥1,234.50``."""
        if amount is None:
            return ""
        return format_currency(Decimal(amount), currency, locale=self.babel)

    def number(self, value: int | Decimal | str) -> str:
        """A count or a decimal with the locale's separators."""
        return format_decimal(Decimal(value), locale=self.babel)

    def percent(self, value: Decimal | str) -> str:
        """A percentage given in percent (``12.5`` -> ``12.5%``)."""
        return format_percent(Decimal(value) / 100, format="#,##0.##%", locale=self.babel)

    def date(self, value: dt.date | str | None) -> str:
        """A date in the locale's medium format."""
        if value is None:
            return ""
        day = dt.date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, format="medium", locale=self.babel)

    def datetime(self, value: dt.datetime | str, time_zone: str = "Asia/Shanghai") -> str:
        """An instant in ``time_zone``, in the locale's medium format."""
        instant = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return format_datetime(
            instant, format="medium", tzinfo=ZoneInfo(time_zone), locale=self.babel
        )

    def loan_class(self, value: int | None) -> str:
        """The five-level class's name in this locale."""
        if value is None:
            return ""
        loan_class = LoanClass(value)
        return loan_class.label_zh if self.locale == "zh-CN" else loan_class.label_en

    def class_of(self, loan: dict[str, Any]) -> str:
        """A loan document's five-level class in this locale ("" before disbursement)."""
        if loan.get("classification") is None:
            return ""
        if self.locale == "zh-CN":
            return str(loan["classification_zh"])
        return str(loan["classification"]).replace("-", " ").capitalize()
