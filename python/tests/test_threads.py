# SPDX-License-Identifier: Apache-2.0
"""librnn.threads: the thread policy and the count the batch loops used."""
import unittest

import librnn
from librnn import threads


class TestThreads(unittest.TestCase):
    def tearDown(self):
        threads.set_thread_policy("adaptive")
        librnn.set_num_threads(0)

    def test_policy_round_trip_and_errors(self):
        self.assertEqual(threads.get_thread_policy(), "adaptive")
        threads.set_thread_policy("FIXED")
        self.assertEqual(threads.get_thread_policy(), "fixed")
        threads.set_thread_policy(0)
        self.assertEqual(threads.get_thread_policy(), "adaptive")
        with self.assertRaises(ValueError):
            threads.set_thread_policy("sometimes")

    def test_fit_reports_the_threads_it_used(self):
        from _util import tagging_data, tiny_tagger
        librnn.set_num_threads(2)
        m = tiny_tagger()
        x, y, lengths = tagging_data(n=16)
        m.fit(x, y, lengths=lengths, epochs=1, batch_size=4, verbose=0)
        self.assertIn(threads.get_active_threads(), (1, 2))
        threads.set_thread_policy("fixed")
        m.fit(x, y, lengths=lengths, epochs=1, batch_size=4, verbose=0)
        self.assertEqual(threads.get_active_threads(), 2)
        m.close()


if __name__ == "__main__":
    unittest.main()
