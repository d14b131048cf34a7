"""The web shell: base templates, navigation, sign-in and the deny-by-default gate."""
