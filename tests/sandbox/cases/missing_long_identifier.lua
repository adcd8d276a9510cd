-- expect: missing
-- repeat: NAME 10000 n
-- why: a 10,000-character name found nowhere: missing, bounded message.
{{NAME}} + 1
