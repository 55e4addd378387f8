/**
 * A stand-in for the frontend's end of an outbound link's push endpoint (`POST …/labs/<lab>/logs`,
 * `…/cases`), for the pushers' tests: `answer` stores one push the way the frontend does and
 * returns its answer; the stand-in counts the pushes and can lose the next answers after they were
 * stored (a connection reset after the frontend committed), so that a test sees the pusher resend
 * what the frontend already has.
 * @param answer stores one push (the request's items) and returns the frontend's answer; may throw
 * @returns `post`, the function to give the pusher; `pushes`, pushes received so far (stored or
 *   not); `loseNext(n)`, the next `n` pushes are stored but `post` throws instead of answering
 */
export function linkFrontendStandIn<Item, Answer>(answer: (items: Item[]) => Answer) {
  let loseAnswers = 0;
  let pushes = 0;
  const post = async (items: Item[]): Promise<Answer> => {
    pushes++;
    const res = answer(items);
    if (loseAnswers > 0) {
      loseAnswers--;
      throw new Error("connection reset after the frontend stored the push");
    }
    return res;
  };
  return {
    post,
    get pushes() {
      return pushes;
    },
    loseNext(n: number) {
      loseAnswers = n;
    },
  };
}
