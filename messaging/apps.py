from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from chats.rows import CHAT_BODY_EXTENSIONS
        from messaging import services  # noqa: F401  (connects its chat_deleting receiver)
        from messaging.rows import chat_timeline

        if chat_timeline not in CHAT_BODY_EXTENSIONS:
            CHAT_BODY_EXTENSIONS.append(chat_timeline)
