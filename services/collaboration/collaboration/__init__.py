"""The collaboration service: questions and answers across departments, practices, ideas."""
