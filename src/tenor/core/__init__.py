"""Pure domain: money, calendars, schedules, accounts, allocation and delinquency. No I/O."""
