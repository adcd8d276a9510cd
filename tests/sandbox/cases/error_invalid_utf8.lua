-- expect: error
-- message: bad ?? bytes
-- why: bytes that are not UTF-8 become '?' (docs/security.md, Limits).
error('bad \255\254 bytes')
