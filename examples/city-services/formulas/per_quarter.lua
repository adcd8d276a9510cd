-- per_quarter(q1, q2, q3, q4): the year's total of four quarterly counts
return function(q1, q2, q3, q4)
  return q1 + q2 + q3 + q4
end
