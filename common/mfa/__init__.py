"""A second factor for the people who see patients' details.

Staff, coordinators and providers (whoever the functions in settings.MFA_REQUIRED_FOR
name) sign in with a password and then a code from an authenticator app (TOTP), or one of
ten recovery codes, when REQUIRE_MFA is on. Devices are django-otp's; `policy` decides who
must use one and holds the middleware that stops them at the door until they have.
"""
