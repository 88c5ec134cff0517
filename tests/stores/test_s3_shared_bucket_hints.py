"""What an S3 store's refusals tell teams sharing one bucket with keys limited to it: a mistyped
bucket is AccessDenied there (SeaweedFS, as AWS for a bucket one may not list), and credentials
kept in an AWS profile are not read. Each hint says what to check, never a credential."""

from __future__ import annotations

import pytest

from kfp_tune.core.errors import StoreInputError
from kfp_tune.stores.s3 import S3Settings
from refusing_s3 import refusing_store


def test_access_denied_on_a_bucket_also_asks_whether_the_bucket_exists():
    settings = S3Settings(endpoint="127.0.0.1:9", secure=False, access_key="TEAMAKEY", secret_key="secret-never-shown")
    with pytest.raises(StoreInputError) as info:
        refusing_store("AccessDenied", settings).list("experiments/")
    assert str(info.value).endswith(
        "failed: AccessDenied (the credentials are valid but may not do this: check what the bucket's policy grants them "
        "on 'nosuchbucket', or that the bucket 'nosuchbucket' exists)"
    )
    assert "secret-never-shown" not in str(info.value)


@pytest.mark.parametrize(
    ("env", "file", "named"),
    [
        ({"AWS_PROFILE": "teama"}, "credentials", "AWS_PROFILE is set"),
        ({"AWS_SHARED_CREDENTIALS_FILE": "/somewhere/credentials"}, "credentials", "AWS_SHARED_CREDENTIALS_FILE is set"),
        ({}, "credentials", "~/.aws/credentials exists"),
        ({"AWS_CONFIG_FILE": "/somewhere/config"}, "", "AWS_CONFIG_FILE is set"),
        ({}, "config", "~/.aws/config exists"),  # an SSO or config-only profile: no credentials file
        ({"AWS_PROFILE": "teama", "AWS_CONFIG_FILE": "/somewhere/config"}, "", "AWS_PROFILE and AWS_CONFIG_FILE are set"),  # each named, not the first only
        ({}, "both", "~/.aws/credentials and ~/.aws/config exist"),
    ],
)
def test_no_credentials_with_an_aws_profile_there_says_profiles_are_not_read(tmp_path, env: dict[str, str], file: str, named: str):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    if file == "credentials":
        (home / ".aws" / "credentials").write_text("[teama]\naws_access_key_id = TEAMAKEY\naws_secret_access_key = profile-secret-never-shown\n")
    elif file == "config":
        (home / ".aws" / "config").write_text("[profile teama]\nsso_session = teams\nsso_account_id = 111122223333\n")
    elif file == "both":
        (home / ".aws" / "credentials").write_text("[teama]\naws_access_key_id = TEAMAKEY\naws_secret_access_key = profile-secret-never-shown\n")
        (home / ".aws" / "config").write_text("[profile teamb]\nsso_session = teams\n")
    settings = S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": "http://127.0.0.1:9", "HOME": str(home), **env})
    with pytest.raises(StoreInputError) as info:
        refusing_store("AccessDenied", settings, bucket="shared").list("experiments/")
    assert str(info.value).endswith(
        "failed: AccessDenied (no credentials were given: kfp-tune reads them from the environment only, not from AWS profiles "
        f"or shared credentials files ({named}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, e.g. "
        'eval "$(aws configure export-credentials --format env)" for the profile (in a pipeline, the store Secret))'
    )
    assert "TEAMAKEY" not in str(info.value) and "profile-secret-never-shown" not in str(info.value)


def test_no_credentials_and_no_profile_says_only_what_to_set(tmp_path):
    settings = S3Settings.from_env({"KFP_TUNE_S3_ENDPOINT": "http://127.0.0.1:9", "HOME": str(tmp_path)})
    with pytest.raises(StoreInputError) as info:
        refusing_store("AccessDenied", settings, bucket="shared").get("k")
    assert str(info.value).endswith("failed: AccessDenied (no credentials were given: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (in a pipeline, the store Secret))")
