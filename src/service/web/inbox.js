triage.start('inbox');
