"""Page objects and the steps scenarios share, one module per front end: ``pwa`` (the applicant's
app: ``Journey``, ``login``, ``login_as``, ``fill_form_pages``, ``same_progress_elsewhere``) and
``staff`` (``staff_context``: a browser signed in as a staff persona). See e2e/README.md."""
