-- expect: error
-- message: nil
-- why: a formula that returns nothing usable; the message says what came back.
return nil
