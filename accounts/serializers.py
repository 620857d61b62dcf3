"""Request and response shapes of the accounts endpoints."""

from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from rest_framework import serializers

from accounts.backends import password_confirm
from accounts.models import User
from accounts.selectors import identity_taken
from accounts.services import EMAIL_TAKEN, USERNAME_TAKEN
from chitchat.fields import StrictCharField, StrictEmailField, StrictModelSerializer

PUBLIC_FIELDS = ("id", "username", "bio", "is_private")
FULL_FIELDS = (
    "id",
    "username",
    "email",
    "first_name",
    "last_name",
    "bio",
    "location",
    "birth_date",
    "is_private",
    "date_joined",
)


def _username_field() -> StrictCharField:
    return StrictCharField(
        min_length=1,
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="1-150 letters, digits and @.+-_ ; unique ignoring case.",
    )


def _check_unique(field: str, value: str, message: str, exclude: User | None = None) -> str:
    """`value` is free as a username or email (see selectors.identity_taken)."""
    if identity_taken(field=field, value=value, exclude_pk=exclude.pk if exclude else None):
        raise serializers.ValidationError(message, code="unique")
    return value


def _check_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(list(exc.messages)) from None


class UserPublicSerializer(StrictModelSerializer):
    """What anyone signed in may see of any user."""

    class Meta:
        model = User
        fields = PUBLIC_FIELDS
        read_only_fields = PUBLIC_FIELDS


class UserFullSerializer(StrictModelSerializer):
    """The whole profile: the user themself, or anyone when the user is not private."""

    class Meta:
        model = User
        fields = FULL_FIELDS
        read_only_fields = FULL_FIELDS


class UserUpdateSerializer(StrictModelSerializer):
    """PATCH users/me/: validates the changed fields; the service writes them.

    Changing `email` needs the current `password` (contract 1.1): a stolen access token
    alone must not redirect password resets to another address.
    """

    username = _username_field()
    email = StrictEmailField(max_length=254)
    bio = StrictCharField(max_length=500, allow_blank=True)
    location = StrictCharField(max_length=100, allow_blank=True)
    password = StrictCharField(
        write_only=True,
        required=False,
        max_length=128,
        trim_whitespace=False,
        help_text="The current password; required when `email` changes.",
    )

    class Meta:
        model = User
        fields = (
            "username",
            "email",
            "password",
            "first_name",
            "last_name",
            "bio",
            "location",
            "birth_date",
            "is_private",
        )

    def validate_username(self, value: str) -> str:
        return _check_unique("username", value, USERNAME_TAKEN, exclude=self.instance)

    def validate_email(self, value: str) -> str:
        return _check_unique("email", value, EMAIL_TAKEN, exclude=self.instance)

    def validate_birth_date(self, value):
        if value is not None and value >= timezone.now().date():
            raise serializers.ValidationError("Must be a date in the past.")
        return value

    def validate(self, attrs):
        password = attrs.pop("password", None)
        if "email" in attrs and attrs["email"] != self.instance.email:
            if not password:
                raise serializers.ValidationError(
                    {"password": ["Required to change the email address."]}, code="required"
                )
            if not password_confirm(user=self.instance, password=password):
                raise serializers.ValidationError({"password": ["Wrong password."]}, code="invalid")
        return attrs


class RegisterSerializer(serializers.Serializer):
    username = _username_field()
    email = StrictEmailField(max_length=254)
    password = StrictCharField(write_only=True, max_length=128, trim_whitespace=False)
    password2 = StrictCharField(
        write_only=True, required=False, max_length=128, trim_whitespace=False
    )
    first_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=150, required=False, allow_blank=True)

    def validate_username(self, value: str) -> str:
        return _check_unique("username", value, USERNAME_TAKEN)

    def validate_email(self, value: str) -> str:
        return _check_unique("email", value, EMAIL_TAKEN)

    def validate(self, attrs):
        if "password2" in attrs and attrs["password2"] != attrs["password"]:
            raise serializers.ValidationError({"password2": ["Passwords do not match."]})
        candidate = User(
            username=attrs["username"],
            email=attrs["email"],
            first_name=attrs.get("first_name", ""),
            last_name=attrs.get("last_name", ""),
        )
        try:
            _check_password(attrs["password"], candidate)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"password": exc.detail}) from None
        attrs.pop("password2", None)
        return attrs


class TokenPairSerializer(serializers.Serializer):
    """Response of register's token part and of refresh."""

    access = StrictCharField()
    refresh = StrictCharField()


class RegisterResponseSerializer(TokenPairSerializer):
    user = UserFullSerializer()


class TokenObtainSerializer(serializers.Serializer):
    username = StrictCharField(
        required=False, max_length=254, help_text="Username or email, ignoring case."
    )
    email = StrictCharField(required=False, max_length=254)
    password = StrictCharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        if not attrs.get("username") and not attrs.get("email"):
            raise serializers.ValidationError(
                {"username": ["Give a username or an email."]}, code="required"
            )
        return attrs


class TokenObtainResponseSerializer(TokenPairSerializer):
    token_type = StrictCharField(default="Bearer")
    expires_in = serializers.IntegerField(help_text="Lifetime of the access token in seconds.")


class RefreshTokenSerializer(serializers.Serializer):
    refresh = StrictCharField()


class PasswordChangeSerializer(serializers.Serializer):
    old_password = StrictCharField(max_length=128, trim_whitespace=False)
    new_password = StrictCharField(max_length=128, trim_whitespace=False)

    def validate_old_password(self, value: str) -> str:
        if not password_confirm(user=self.context["request"].user, password=value):
            raise serializers.ValidationError("Wrong password.", code="invalid")
        return value

    def validate_new_password(self, value: str) -> str:
        _check_password(value, self.context["request"].user)
        return value


class PasswordResetSerializer(serializers.Serializer):
    email = StrictEmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = StrictCharField(max_length=64)
    token = StrictCharField(max_length=128)
    new_password = StrictCharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs):
        # The service checks the token again under a row lock; this check gives the early,
        # field-level answer and lets the password validators compare against the user.
        try:
            user_id = int(force_str(urlsafe_base64_decode(attrs["uid"])))
        except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
            raise serializers.ValidationError({"uid": ["Invalid reset link."]}) from None
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None or not default_token_generator.check_token(user, attrs["token"]):
            raise serializers.ValidationError(
                {"token": ["The reset link is invalid or has already been used."]}
            )
        try:
            _check_password(attrs["new_password"], user)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"new_password": exc.detail}) from None
        attrs["user_id"] = user.pk
        return attrs


class PasswordSerializer(serializers.Serializer):
    """DELETE users/me/: the current password confirms the deletion."""

    password = StrictCharField(max_length=128, trim_whitespace=False)

    def validate_password(self, value: str) -> str:
        if not password_confirm(user=self.context["request"].user, password=value):
            raise serializers.ValidationError("Wrong password.", code="invalid")
        return value
