"""The CS console: server-rendered pages for CSMs and their managers under `/console` on the API
(starter/http/app.py), with console users kept in the CRM (starter.console.users, managed with
`csflow users ...`)."""
