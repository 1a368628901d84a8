"""nbgrader configuration for the kit's course folder (source/ -> release/)."""
c = get_config()  # noqa: F821  (provided by nbgrader)
c.CourseDirectory.course_id = "pytorch-week"
c.CourseDirectory.root = "."
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
