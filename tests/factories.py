"""factory_boy factories for the models the tests build on."""

import factory
from django.contrib.auth import get_user_model

from accounts.models import Clinic, Membership, Role
from clients.models import Client
from intake.models import Intake


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def save_password(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = Role.CLINICIAN


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    clinic = factory.SubFactory(ClinicFactory)
    display_name = factory.Sequence(lambda n: f"Alias {n}")
    pronouns = "they/them"


class IntakeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intake

    client = factory.SubFactory(ClientFactory)
    clinic = factory.SelfAttribute("client.clinic")
    kind = "individual"
    form_version = "test"
    current_step = "consent"
    # Consent given (the first step): nothing else is kept before it.
    answers = factory.LazyFunction(
        lambda: {"consent": {"confidentiality_explained": True, "recording_preference": "full"}}
    )
