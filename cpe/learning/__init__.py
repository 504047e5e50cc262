"""Online learning (网络学习): the catalogue, enrolment, lessons, the course test and the pending credits, R-CE-8."""
