"""Training, exams and the annual assessment run (年度考核) that revokes certificates."""
