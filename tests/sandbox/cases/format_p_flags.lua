-- expect: error
-- message: %p
-- why: '%p' hidden behind flags and a width, after a literal '%%'.
return #string.format('100%% %-20p', {})
