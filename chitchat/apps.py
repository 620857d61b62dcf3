from django.apps import AppConfig


class ChitchatConfig(AppConfig):
    name = "chitchat"

    def ready(self):
        from chitchat import lifecycle  # noqa: F401  (connects the account-lifecycle receivers)
