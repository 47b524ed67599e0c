"""Infrastructure shared by every Agora service; no business words live here."""
