"""Under concurrent requests (PostgreSQL, one connection per thread): the same contract submitted at once is
saved once and the others are told, in Chinese, which application exists; registrations at once get distinct,
consecutive numbers."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, connections

from kechuang.recognitions import contracts
from kechuang.recognitions.models import TechContract
from tests.recognitions.conftest import TODAY, contract_data, make_contract

pytestmark = pytest.mark.django_db(transaction=True)


def _race(work, count: int) -> tuple[list, list[str], list[str]]:
    barrier = threading.Barrier(count)
    done, refused, crashed = [], [], []
    lock = threading.Lock()

    def worker(n):
        try:
            barrier.wait(timeout=30)
            try:
                result = work(n)
            except ValidationError as error:
                with lock:
                    refused.append("；".join(error.messages))
            else:
                with lock:
                    done.append(result)
        except Exception as error:  # anything else is a failure of the test
            with lock:
                crashed.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return done, refused, crashed


def test_the_same_contract_submitted_at_once_is_saved_once(p):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests are tested on PostgreSQL")
    data = contract_data(p.ent_a, contract_no="HT-RACE")
    carol = p.carol.pk

    done, refused, crashed = _race(
        lambda n: contracts.contract_create(dict(data), user=User.objects.get(pk=carol)).pk, 6
    )

    assert not crashed, crashed
    assert len(done) == 1 and len(refused) == 5
    assert all("合同编号“HT-RACE”" in m and "不能重复" in m for m in refused), refused
    assert TechContract.objects.filter(contract_no="HT-RACE").count() == 1


def test_registrations_at_once_get_distinct_consecutive_numbers(p):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests are tested on PostgreSQL")
    waiting = [make_contract(p).pk for _ in range(6)]
    carol = p.carol.pk

    def register(n):
        contract = TechContract.objects.get(pk=waiting[n])
        contracts.contract_register(contract, user=User.objects.get(pk=carol), registered_on=TODAY)
        return contract.registration_no

    done, refused, crashed = _race(register, 6)

    assert not crashed and not refused, (crashed, refused)
    assert sorted(done) == [f"{TODAY.year}310117{k:06d}" for k in range(1, 7)]
