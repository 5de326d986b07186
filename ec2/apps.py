from django.apps import AppConfig


class Ec2Config(AppConfig):
    name = "ec2"
    verbose_name = "EC2 practice instances"
