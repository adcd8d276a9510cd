-- expect: invalid
-- message: overflow
-- repeat: OPEN 10000 {
-- repeat: CLOSE 10000 }
-- why: 10,000 nested table constructors.
#{{OPEN}}{{CLOSE}}
