"""The program's e-mail: templates in three languages, the outbox, SMTP delivery, and the
local mail catcher of the embedded stack."""
