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
    # events the close and relief write
    "event:bucket-changed": "逾期分档变化",
    "event:classification-changed": "五级分类变化",
    "event:restructured": "重组",
    # portfolio dashboard: roll rates, vintages, watchlist
    "Approvals": "审批",
    "Roll rates from %(start)s to %(end)s (month ends), %(currency)s": (
        "迁徙率：%(start)s 至 %(end)s（月末），%(currency)s"
    ),
    "Share of the bucket's loans": "占该分档贷款笔数",
    "Roll-rate matrix: each row's loans by where they were a month later": (
        "迁徙矩阵：每行贷款一个月后所处的分档"
    ),
    "From bucket": "原分档",
    "roll:paid-off": "已结清",
    "roll:written-off": "已核销",
    "Vintage curves: share of each cohort over 30 days past due or written off, by months on "
    "book, %(currency)s": (
        "账龄曲线：各放款批次逾期 30 天以上或已核销的贷款占比（按账龄月数），%(currency)s"
    ),
    "Share of the cohort's loans": "占该批次贷款笔数",
    "Cohorts by the month their loans were paid out": "按放款月份划分的批次",
    "Cohort": "放款批次",
    "MOB %(months)s": "账龄 %(months)s 月",
    "Months on book": "账龄（月）",
    "The roll-rate matrix needs two month ends closed by the daily close.": (
        "迁徙矩阵需要日终批处理完成两个月末。"
    ),
    "Early-warning watchlist": "预警名单",
    "%(count)s open entries, breaches first": "共 %(count)s 条未结预警，违约在前",
    "Severity": "严重程度",
    "severity:breach": "违约",
    "severity:warning": "预警",
    "Signal": "信号",
    "Period end": "报告期末",
    "Task": "任务",
    "No open early warnings.": "暂无未结预警。",
    # loan page: audit, contacts, relief, bureau
    "Inclusion receipt (JSON)": "收录凭证（JSON）",
    "Audit receipt": "审计凭证",
    "%(covered)s of the loan's %(logged)s events are under the newest signed tree head "
    "(%(size)s entries, signed %(signed)s). Each one's inclusion receipt is linked in the "
    "journal above; check it with tenor audit verify-receipt.": (
        "该贷款 %(logged)s 个事件中有 %(covered)s 个已在最新签名树头之下（共 %(size)s 条记录，"
        "签名于 %(signed)s）。每个事件的收录凭证链接见上方流水，可用 tenor audit "
        "verify-receipt 验证。"
    ),
    "Download the receipt of the latest covered event (#%(sequence)s)": (
        "下载最新已收录事件的凭证（#%(sequence)s）"
    ),
    "No tree head has been signed yet: receipts are ready after the next daily close (or "
    "tenor audit sign).": "尚未签名任何树头：下次日终批处理（或 tenor audit sign）后即可获取凭证。",
    "Contact history": "联系记录",
    "The newest %(shown)s of %(total)s messages about this loan": (
        "关于该贷款的 %(total)s 条消息中最新的 %(shown)s 条"
    ),
    "Queued": "生成时间",
    "Message": "消息",
    "State": "状态",
    "Sent": "发送时间",
    "Refused by rule": "拒绝规则",
    "held until %(moment)s": "暂缓至 %(moment)s",
    "No message about this loan yet.": "暂无关于该贷款的消息。",
    "message:reminder": "还款提醒",
    "message:sign-in-code": "登录验证码",
    "state:pending": "待发送",
    "state:held": "暂缓",
    "state:sending": "发送中",
    "state:sent": "已发送",
    "state:delivered": "已送达",
    "state:failed": "发送失败",
    "state:dead": "多次失败",
    "state:refused": "已拒绝",
    "state:cancelled": "已取消",
    "state:task": "外呼任务",
    "rule:opt_out": "借款人已退订该渠道",
    "rule:third_party": "不得联系第三方",
    "rule:quiet_hours": "休息时间",
    "rule:after_conversation": "通话后冷静期",
    "rule:call_frequency": "呼叫次数上限",
    "rule:connected_calls_per_day": "每日接通次数上限",
    "rule:unanswered_calls_per_day": "每日未接通次数上限",
    "rule:no_address": "没有联系地址",
    "rule:bounced": "邮件被退回",
    "rule:email_invalid": "邮箱多次退信，已停用",
    "Bounced repeatedly: reminders no longer use it": "多次退信：提醒不再使用该邮箱",
    "rule:no_borrower": "借款人不存在",
    "rule:paid": "已还款",
    "Relief and restructurings": "纾困与重组",
    "Restructured and under watch: classified Special mention at least.": (
        "已重组并处于观察期：至少归为关注类。"
    ),
    "Collections pause: %(what)s until %(until)s.": "催收暂停：%(what)s，至 %(until)s。",
    "open:offer": "待接受的方案",
    "open:plan": "执行中的方案",
    "Restructured events of the journal": "流水中的重组事件",
    "Option": "方案",
    "New installments": "新还款期数",
    "Capitalised interest": "资本化利息",
    "Booked by": "记账人",
    "Relief request %(id)s": "纾困申请 %(id)s",
    "Asked through": "申请渠道",
    "through:self-service": "自助服务",
    "through:staff": "员工代办",
    "Reason": "原因",
    "Offer %(id)s": "方案 %(id)s",
    "needs a second person's approval": "需第二人审批",
    "Expires on": "有效期至",
    "Offered by": "提出人",
    "Accepted by": "接受人",
    "Approved by": "审批人",
    "Requested by": "申请人",
    "Offer %(id)s against the current schedule": "方案 %(id)s 与当前还款计划对比",
    "No relief asked for or given.": "暂无纾困申请或重组。",
    "request:open": "处理中",
    "request:offered": "已提供方案",
    "request:accepted": "已接受，待审批",
    "request:applied": "已生效",
    "request:declined": "不符合条件",
    "offer:open": "可接受",
    "offer:accepted": "已接受，待审批",
    "offer:applied": "已生效",
    "offer:superseded": "已被其他方案取代",
    "offer:expired": "已过期",
    "option:deferral": "延期还款",
    "option:term-extension": "展期",
    "option:re-amortisation": "重新摊还",
    "option:arrears-plan": "逾期款分期偿还",
    "option:lower-rate": "降低利率",
    "option:settlement": "协商结清",
    "option:milestone-reschedule": "调整还本节点",
    "help:deferral": "暂停接下来几期的还款，之后再还。",
    "help:term-extension": "延长贷款期限，每期少还一些。",
    "help:re-amortisation": "按剩余期限重新计算每期还款额。",
    "help:arrears-plan": "把逾期未还的款项分几期还清。",
    "help:lower-rate": "在一段时间内按较低利率计息。",
    "help:settlement": "在截止日前一次性还清折让后的金额。",
    "help:milestone-reschedule": "按工程进度推迟还本节点。",
    "Now": "当前",
    "With the relief": "纾困后",
    "Change": "变化",
    "Regular installment": "每期还款额",
    "Installments left": "剩余期数",
    "Last due date": "最后到期日",
    "Interest still to pay": "尚需支付的利息",
    "Total still to pay": "尚需支付的总额",
    "Principal left": "剩余本金",
    "Bureau records": "征信报送记录",
    "Metro 2 account type": "Metro 2 账户类型",
    "Assigned to collections": "转入催收",
    "Original creditor": "原始债权人",
    "Deleted from the bureaus": "已从征信删除",
    "What is reported for each month end, newest first": "各月末报送内容（最新在前）",
    "Month": "月份",
    "PBOC status": "人行征信状态",
    "24-month history": "24 个月还款记录",
    "Metro 2 status": "Metro 2 状态",
    "Balance": "余额",
    "Past due": "逾期金额",
    "No month end to report yet.": "尚无可报送的月末。",
    "Special comments": "特殊说明",
    "comment:restructured": "重组",
    "comment:deferred": "延期",
    "Disputes": "异议",
    "Opened %(date)s": "%(date)s 提出",
    "resolved %(date)s": "%(date)s 解决",
    "the consumer disagrees": "借款人仍有异议",
    "Corrections filed": "已报送的更正",
    # approvals
    "Offer %(id)s approved: the restructuring is in the loan's journal.": (
        "方案 %(id)s 已批准：重组已记入贷款流水。"
    ),
    "Relief waiting for a second person": "待第二人审批的纾困方案",
    "Risk officers and admins approve; your role reads.": "由风险官和管理员审批；您的角色只读。",
    "Offered on": "提出日期",
    "policy version %(version)s": "政策版本 %(version)s",
    "The proposed schedule": "拟定还款计划",
    "Offer %(id)s: installments after the relief": "方案 %(id)s：纾困后的还款计划",
    "You requested, offered or accepted this offer: a second person approves it.": (
        "您申请、提出或接受了该方案：须由第二人审批。"
    ),
    "Approve offer %(id)s": "批准方案 %(id)s",
    "No relief is waiting for approval.": "暂无待审批的纾困方案。",
    "You requested, offered or accepted offer %(id)s: a second person must approve it.": (
        "您申请、提出或接受了方案 %(id)s：须由第二人审批。"
    ),
    "Offer %(id)s is no longer waiting for approval.": "方案 %(id)s 已不在待审批状态。",
    "The loan changed since offer %(id)s was made: its schedule no longer holds, and a new "
    "offer is needed.": "方案 %(id)s 提出后贷款已发生变化：其还款计划不再成立，需要重新提出方案。",
    "Relief policies": "纾困政策",
    "The version in force for each product (version 0: the default policy)": (
        "各产品现行版本（版本 0 为默认政策）"
    ),
    "Version": "版本",
    "Minimum credit score": "最低信用评分",
    "Maximum days past due": "最多逾期天数",
    "Approval above": "超过此金额须审批",
    "Always approved by a second person": "始终须第二人审批",
    "Options": "方案",
    "Stored": "保存",
    "built in": "内置",
    "%(product)s: every version": "%(product)s：全部版本",
    "Version %(version)s": "版本 %(version)s",
    "Reminder policies": "提醒政策",
    "The version in force of each policy": "各政策现行版本",
    "Policy": "政策",
    "Products": "产品",
    "Every product": "全部产品",
    "Contact rules": "联系规则",
    "Steps": "步骤",
    "built in: used where no stored policy matches": "内置：没有匹配的已保存政策时使用",
    # self-service relief
    "Relief for loan %(id)s": "贷款 %(id)s 的纾困",
    "Trouble paying? Ask for a deferral or an installment plan": (
        "还款有困难？申请延期还款或分期偿还"
    ),
    "We have your request. The offers below are yours to take until they expire.": (
        "我们已收到您的申请。以下方案在有效期内均可选择。"
    ),
    "We are sorry: your loan does not qualify for relief now.": (
        "很抱歉：您的贷款目前不符合纾困条件。"
    ),
    "You took the offer. A second person at the lender approves it; your schedule changes then.": (
        "您已接受该方案。贷款机构的第二位工作人员审批后，您的还款计划即会变更。"
    ),
    "Done: your new schedule is in force.": "已完成：新的还款计划已生效。",
    "Your offers": "您的方案",
    "%(option)s against your current schedule": "%(option)s与您当前的还款计划对比",
    "The new schedule": "新的还款计划",
    "%(option)s: your installments": "%(option)s：您的还款计划",
    "You may take this offer until %(date)s.": "您可在 %(date)s 前接受此方案。",
    "Take this offer: %(option)s": "接受此方案：%(option)s",
    "You took this offer; it is waiting for approval.": "您已接受此方案，正在等待审批。",
    "Ask for relief": "申请纾困",
    "What would help you?": "哪种方式对您有帮助？",
    "Every option I qualify for": "我符合条件的全部方案",
    "What happened (optional)": "发生了什么（选填）",
    "Your monthly income, %(currency)s (optional)": "您的月收入，%(currency)s（选填）",
    "Your other monthly debts, %(currency)s (optional)": "您每月的其他债务，%(currency)s（选填）",
    "Proof of hardship: a reference, such as a letter's number (optional)": (
        "困难证明：参考编号，例如证明信编号（选填）"
    ),
    "What you may ask for today": "您今天可以申请的方案",
    "available": "可申请",
    "not available now": "目前不可申请",
    "Relief is for loans being repaid.": "纾困仅适用于正在还款的贷款。",
    "Your earlier requests": "您以前的申请",
    "Choose what you are asking for.": "请选择您要申请的方案。",
    "You already have a request being handled for this loan.": "该贷款已有一笔申请正在处理中。",
    "Your loan does not qualify for this option with what you told us; choose another, or ask "
    "for every option you qualify for.": (
        "根据您提供的情况，您的贷款不符合该方案的条件；请选择其他方案，或申请您符合条件的全部方案。"
    ),
    "This offer can no longer be taken; ask again for relief.": (
        "该方案已无法接受，请重新申请纾困。"
    ),
    "Your loan changed since this offer was made (a payment, say), so its schedule no longer "
    "holds; ask again for relief.": (
        "该方案提出后您的贷款发生了变化（例如有一笔还款），其还款计划不再成立，请重新申请纾困。"
    ),
    "Income and debts are amounts of at least zero, such as 5000 or 5000.50.": (
        "收入和债务须为不小于零的金额，例如 5000 或 5000.50。"
    ),
    # collections: the workbench, a case, the loan page, the dashboard and the strategy
    "Collections": "催收",
    "Collector workbench": "催收工作台",
    "Whose queue": "查看谁的队列",
    "Collector": "催收员",
    "Open the queue": "打开队列",
    "Queue of %(name)s (%(team)s)": "%(name)s（%(team)s）的工作队列",
    "Start with the top case: %(name)s": "从队首案件开始：%(name)s",
    "The queue in working order": "按处理顺序排列的队列",
    "%(count)s tasks in working order at %(moment)s: those the contact rules allow now first, "
    "then broken promises, then expected value": (
        "截至 %(moment)s 共 %(count)s 项任务，处理顺序：联系规则现在允许的在前，"
        "其次是违约的还款承诺，再按预期回收值排序"
    ),
    "Expected value": "预期回收值",
    "propensity %(rate)s (%(source)s)": "还款倾向 %(rate)s（%(source)s）",
    "source:heuristic": "规则估算",
    "model %(name)s": "模型 %(name)s",
    "Contact rules now": "当前联系规则",
    "Allowed now": "现在可以联系",
    "Not allowed now": "现在不可联系",
    "next allowed %(moment)s": "下次可联系：%(moment)s",
    "The queue is empty: no call or visit is waiting.": "队列为空：没有待处理的电话或上门任务。",
    "Your user is not linked to a collector, so you have no queue. An admin links it: tenor web "
    "user create --collector ID.": (
        "您的用户未关联催收员，因此没有工作队列。请管理员关联：tenor web user create "
        "--collector ID。"
    ),
    "No collector yet: add one with tenor collect collectors add.": (
        "尚无催收员：请用 tenor collect collectors add 添加。"
    ),
    "Case %(id)s": "案件 %(id)s",
    "Number %(rank)s of %(count)s in the queue of %(name)s.": (
        "%(name)s 的队列中第 %(rank)s 个，共 %(count)s 个。"
    ),
    "Not in the queue of %(name)s now.": "当前不在 %(name)s 的队列中。",
    "Back to the queue": "返回队列",
    "Recorded on case %(id)s: %(outcome)s.": "已在案件 %(id)s 上记录：%(outcome)s。",
    "A promise of %(amount)s by %(date)s, pending until the daily close decides it.": (
        "承诺于 %(date)s 前还款 %(amount)s，待日终批处理判定。"
    ),
    "Open case %(id)s again": "再次打开案件 %(id)s",
    "Contact rules, before the call": "联系规则（联系前检查）",
    "The contact rules allow a %(channel)s now.": "联系规则现在允许%(channel)s。",
    "The contact rules do not allow a %(channel)s now: %(rule)s.": (
        "联系规则现在不允许%(channel)s：%(rule)s。"
    ),
    "Next allowed at %(moment)s, the borrower's time.": (
        "下次可联系时间：%(moment)s（借款人当地时间）。"
    ),
    "Time alone does not lift this rule.": "该限制不会随时间解除。",
    "Checked at %(moment)s under the contact profile of the strategy in force.": (
        "于 %(moment)s 按现行催收策略的联系规则检查。"
    ),
    "What is owed": "欠款情况",
    "The case": "案件",
    "Opened on": "开立日期",
    "closed %(date)s": "%(date)s 结案",
    "Segment": "客群",
    "Arm": "策略组",
    "Strategy": "策略",
    "Paused": "暂停",
    "Flags": "标记",
    "Agency": "催收机构",
    "No": "否",
    "Yes": "是",
    "Pending promise: %(amount)s by %(date)s, made on %(made)s.": (
        "待履行的还款承诺：%(date)s 前还款 %(amount)s（%(made)s 作出）。"
    ),
    "Record what the %(channel)s gave": "记录本次%(channel)s的结果",
    "Note (optional)": "备注（选填）",
    "Outcome": "结果",
    "Amount, %(currency)s": "金额（%(currency)s）",
    "Promised for": "承诺还款日",
    "Proposed: the arrears, %(days)s days after the business date; at most %(max)s days ahead.": (
        "建议值：逾期金额，业务日期后 %(days)s 天；最多 %(max)s 天后。"
    ),
    "Record the promise to pay": "记录还款承诺",
    "This case is closed: nothing more is recorded on it.": "该案件已结案，不再记录任何内容。",
    "History of the case": "案件记录",
    "Actions of case %(id)s": "案件 %(id)s 的催收动作",
    "Action": "动作",
    "Cost": "成本",
    "No action yet.": "暂无催收动作。",
    "Contacts on case %(id)s": "案件 %(id)s 的联系记录",
    "When": "时间",
    "By": "经办",
    "Note": "备注",
    "No contact recorded yet.": "暂无联系记录。",
    "Promises to pay on case %(id)s": "案件 %(id)s 的还款承诺",
    "Made on": "作出日期",
    "Paid against it": "已还金额",
    "Decided on": "判定日期",
    "No promise to pay.": "暂无还款承诺。",
    "Collection paused until it is resolved": "异议解决前暂停催收",
    "Placements with agencies": "委外记录",
    "Placed on": "委外日期",
    "Recall due": "到期收回日",
    "Recalled": "已收回",
    "Commission rate": "佣金比例",
    "Legal cases": "诉讼案件",
    "Legal case %(id)s": "诉讼案件 %(id)s",
    "Asset preservation": "财产保全",
    "Court": "法院",
    "Judgment": "判决",
    "costs %(amount)s": "诉讼费用 %(amount)s",
    "interest %(amount)s": "利息 %(amount)s",
    "costs charged to the borrower": "费用由借款人承担",
    "Costs of legal case %(id)s": "诉讼案件 %(id)s 的费用",
    "Charged to the borrower": "已向借款人收取",
    "%(days)s days past due": "逾期 %(days)s 天",
    "This loan has never been in collections.": "该贷款从未进入催收。",
    "The contact rules do not allow this contact now: nothing was recorded.": (
        "联系规则现在不允许此次联系：未记录任何内容。"
    ),
    "This case is closed: nothing was recorded.": "该案件已结案：未记录任何内容。",
    "The promised amount is a positive amount such as 1053.15.": (
        "承诺金额须为正数金额，例如 1053.15。"
    ),
    "A promise cannot be for more than the case's balance (%(balance)s).": (
        "承诺金额不能超过案件余额（%(balance)s）。"
    ),
    "The promised date is a date such as 2026-03-01.": "承诺还款日须为日期，例如 2026-03-01。",
    "A promise cannot be dated before the business date.": "承诺还款日不能早于业务日期。",
    "A promise is at most %(days)s days ahead.": "承诺还款日最多在 %(days)s 天之后。",
    "Collections performance": "催收绩效",
    "Show collections performance": "查看催收绩效",
    "Cases opened": "已开立案件",
    "Open cases": "在催案件",
    "Cure rate": "出催率",
    "Promise keep rate": "承诺履约率",
    "Recovered by cases": "案件回收金额",
    "Roll, cure and recovery rates by stage reached, %(currency)s": (
        "各阶段迁徙率、出催率与回收率（按到达的最远阶段），%(currency)s"
    ),
    "Rate": "比率",
    "Stage reached": "到达阶段",
    "Cases by the furthest stage they reached": "按到达的最远阶段划分的案件",
    "Cases": "案件数",
    "Rolled on": "继续迁徙",
    "Cured": "出催",
    "rate:roll": "迁徙率",
    "rate:cure": "出催率",
    "rate:recovery": "回收率",
    "Promises to pay: kept, broken and pending": "还款承诺：已履行、已违约与待判定",
    "Promises": "还款承诺",
    "Promises to pay, and the keep rate of those the close decided": (
        "还款承诺，及日终批处理已判定部分的履约率"
    ),
    "Made": "已作出",
    "Promised (decided)": "承诺金额（已判定）",
    "Paid against them": "已还金额",
    "Champion against challenger: each arm's cure rate with its 95%% interval, %(currency)s": (
        "冠军策略与挑战策略：各组出催率及其 95%% 置信区间，%(currency)s"
    ),
    "Champion against challenger": "冠军策略与挑战策略",
    "Each segment's arms by the segment and arm their cases opened in; 95% intervals in "
    "brackets": "按案件开立时的客群和策略组统计；括号内为 95% 置信区间",
    "Recovered per case": "每案回收金额",
    "Contact cost per case": "每案联系成本",
    "Challenger's cure rate minus the champion's": "挑战组出催率减冠军组出催率",
    "Estimate": "估计值",
    "95% interval": "95% 置信区间",
    "Agencies: share of the balance placed with each that it recovered, %(currency)s": (
        "催收机构：委外余额的回收比例，%(currency)s"
    ),
    "Agencies": "催收机构",
    "Agencies: placements, what they collected and their commission": (
        "催收机构：委外案件、回收金额与佣金"
    ),
    "Placements": "委外次数",
    "Placed now": "当前委外",
    "Balance placed": "委外余额",
    "Collected": "已回收",
    "Commission": "佣金",
    "Net": "净额",
    "No collection case has been opened yet.": "尚未开立任何催收案件。",
    "Collection strategy": "催收策略",
    "In force: %(name)s version %(version)s.": "现行：%(name)s 版本 %(version)s。",
    "The built-in default: no version has been saved.": "内置默认策略：尚未保存任何版本。",
    "Promises to pay": "还款承诺",
    "kept within %(tolerance)s of the amount; days of grace: %(days)s": (
        "金额差额不超过 %(tolerance)s 即视为履行；宽限天数：%(days)s"
    ),
    "Paths pause for": "以下情况暂停催收路径",
    "Segments and their treatment paths": "客群及其催收路径",
    "Segments in the order a case is matched, and their treatment paths (D+n: days after the "
    "step before)": "客群（按匹配顺序）及其催收路径（D+n：上一步之后的天数）",
    "Also when": "附加条件",
    "balance from %(amount)s": "余额不低于 %(amount)s",
    "balance up to %(amount)s": "余额不高于 %(amount)s",
    "score from %(score)s": "评分不低于 %(score)s",
    "score up to %(score)s": "评分不高于 %(score)s",
    "%(percent)s of the segment": "占客群 %(percent)s",
    "Collection strategy: every version": "催收策略：全部版本",
    "in force": "现行",
    "arm:champion": "冠军组",
    "arm:challenger": "挑战组",
    "channel:call": "电话",
    "channel:visit": "上门拜访",
    "action:sms": "短信",
    "action:push": "推送通知",
    "action:email": "电子邮件",
    "action:letter": "催收函",
    "action:call": "电话",
    "action:visit": "上门拜访",
    "action:agency": "委外催收",
    "action:legal": "转诉讼",
    "action:write_off": "建议核销",
    "action-state:task": "待处理",
    "action-state:done": "已完成",
    "action-state:sent": "已发送",
    "action-state:held": "暂缓",
    "action-state:refused": "已拒绝",
    "action-state:recommended": "已建议",
    "action-state:skipped": "已跳过",
    "action-state:cancelled": "已取消",
    "outcome:right_party_contact": "本人接通",
    "outcome:wrong_party": "非本人",
    "outcome:no_answer": "无人接听",
    "outcome:refused": "拒绝沟通",
    "outcome:promise_to_pay": "承诺还款",
    "outcome:dispute": "提出异议",
    "outcome:hardship": "经济困难",
    "outcome:deceased": "已身故",
    "outcome:bankruptcy": "破产",
    "case:open": "在催",
    "case:closed": "已结案",
    "closed:cured": "已出催",
    "closed:paid": "已结清",
    "closed:written_off": "已核销",
    "paused:promise_to_pay": "还款承诺中",
    "paused:dispute": "异议处理中",
    "paused:hardship": "经济困难",
    "paused:deceased": "已身故",
    "paused:bankruptcy": "破产",
    "paused:agency": "委外中",
    "paused:paid": "已还款",
    "paused:cured": "已出催",
    "flag:first_payment_default": "首期违约",
    "flag:broken_promise": "承诺违约",
    "flag:hardship": "经济困难",
    "flag:deceased": "已身故",
    "flag:bankruptcy": "破产",
    "promise:pending": "待判定",
    "promise:kept": "已履行",
    "promise:broken": "已违约",
    "promise:replaced": "已被新承诺取代",
    "recall:period_end": "委外期满",
    "recall:on_request": "主动收回",
    "recall:dispute": "提出异议",
    "recall:hardship": "经济困难",
    "recall:deceased": "已身故",
    "recall:bankruptcy": "破产",
    "recall:written_off": "已核销",
    "recall:cured": "已出催",
    "recall:paid": "已结清",
    "legal:referred": "已转诉讼",
    "legal:demand_letter": "律师函",
    "legal:filed": "已立案",
    "legal:hearing": "开庭",
    "legal:judgment": "判决",
    "legal:enforcement": "强制执行",
    "legal:settlement": "和解",
    "legal:closed": "已结案",
    "preservation:none": "未申请",
    "preservation:requested": "已申请",
    "preservation:granted": "已准予",
    "preservation:refused": "已驳回",
    "preservation:released": "已解除",
    "legal-event:cost": "费用",
    "legal-event:document": "文件",
    "cost:court": "诉讼费",
    "cost:lawyer": "律师费",
    "cost:enforcement": "执行费",
    "cost:other": "其他费用",
    "condition:opt_out_notice": "须告知借款人如何退订。",
    "condition:location_only": "仅可询问借款人的联系方式。",
    "condition:no_debt_disclosure": "不得向第三方透露债务。",
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
    label = ":" in message and " " not in message
    text = ZH_CN.get(message, message) if locale == "zh-CN" else message
    if label and (locale == "en" or message not in ZH_CN):
        # Keys of domain labels ("status:active") read as their value in English, and so does
        # a label Chinese does not have yet (a state a newer capability writes, say).
        text = _english_label(message)
    return text % values if values else text


_ENGLISH_LABELS: Final = {
    "outcome:right_party_contact": "right-party contact",
    "action:sms": "SMS",
    "action:push": "push notification",
    "action:letter": "demand letter",
    "action:visit": "field visit",
    "action:agency": "placement with an agency",
    "action:legal": "referral to legal",
    "action:write_off": "write-off recommendation",
    "action-state:task": "to do",
    "channel:visit": "field visit",
    "paused:promise_to_pay": "a promise to pay",
    "paused:agency": "with an agency",
    "flag:first_payment_default": "first-payment default",
    "flag:broken_promise": "promise broken",
    "promise:replaced": "replaced by a newer promise",
    "recall:period_end": "end of the placement period",
    "legal:referred": "referred to legal",
    "legal:filed": "filed with the court",
    "preservation:none": "not asked for",
    "cost:court": "court fees",
    "cost:lawyer": "lawyer's fees",
    "cost:enforcement": "enforcement costs",
    "condition:opt_out_notice": "Tell the borrower how to opt out.",
    "condition:location_only": "Ask only how to reach the borrower.",
    "condition:no_debt_disclosure": "Do not tell a third party about the debt.",
    "rate:roll": "roll rate",
    "rate:cure": "cure rate",
    "rate:recovery": "recovery rate",
    "role:risk": "risk officer",
    "event:bucket-changed": "bucket changed",
    "event:classification-changed": "classification changed",
    "roll:paid-off": "paid off",
    "message:sign-in-code": "sign-in code",
    "state:dead": "failed for good",
    "state:task": "dialer task",
    "rule:opt_out": "opted out",
    "rule:third_party": "no third parties",
    "rule:quiet_hours": "quiet hours",
    "rule:after_conversation": "days after a conversation",
    "rule:call_frequency": "call attempts per debt",
    "rule:connected_calls_per_day": "connected calls a day",
    "rule:unanswered_calls_per_day": "unanswered calls a day",
    "rule:no_address": "no address",
    "rule:bounced": "bounced",
    "rule:email_invalid": "email address bounced repeatedly",
    "rule:no_borrower": "no borrower",
    "open:offer": "an open offer",
    "open:plan": "a plan in force",
    "request:open": "being handled",
    "request:accepted": "accepted, waiting for approval",
    "request:declined": "not eligible",
    "offer:open": "open to take",
    "offer:accepted": "accepted, waiting for approval",
    "offer:superseded": "another was taken",
    "option:re-amortisation": "re-amortisation",
    "option:arrears-plan": "installment plan for the arrears",
    "option:lower-rate": "lower rate",
    "option:milestone-reschedule": "milestone reschedule",
    "help:deferral": "Pause the next payments and pay them later.",
    "help:term-extension": "Pay over a longer term, less each month.",
    "help:re-amortisation": "Spread what is left evenly over the months left.",
    "help:arrears-plan": "Pay what is overdue in a few installments.",
    "help:lower-rate": "Pay a lower rate for a while.",
    "help:settlement": "Pay a discounted amount in one payment by a deadline.",
    "help:milestone-reschedule": "Move principal payments with the project's progress.",
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
    return _ENGLISH_LABELS.get(key, key.split(":", 1)[1].replace("-", " ").replace("_", " "))


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

    def label(self, message: str, **values: Any) -> str:
        """A message (or a domain label such as ``status:active``) in this locale."""
        return translate(self.locale, message, **values)

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

    def fraction(self, value: Decimal | str) -> str:
        """A share given as a fraction (``0.2`` -> ``20%``)."""
        return self.percent(Decimal(value) * 100)

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

    def local(self, value: dt.datetime) -> str:
        """An aware instant in its own time zone (a borrower's local time, as the contact
        rules give it), with the zone's name."""
        zone = value.tzinfo
        name = getattr(zone, "key", None) or str(zone)
        shown = format_datetime(value, format="medium", tzinfo=zone, locale=self.babel)
        return f"{shown} ({name})"

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
